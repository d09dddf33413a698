// Guided troubleshooting without page reloads: an answer fetches the next state of the
// guide (the same server-rendered section the links lead to without JS), swaps it in, keeps
// the address in step so "back" and sharing work, and moves focus to the new question.
(function () {
  "use strict";

  function section() {
    return document.querySelector("[data-guide]");
  }

  async function go(href, push) {
    const current = section();
    current.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const next = html.querySelector("[data-guide]");
      if (!next) throw new Error("no guide");
      current.replaceWith(next);
      if (push) history.pushState({ guide: href }, "", href);
      const focusTarget = next.querySelector("#guide-question, #guide-outcome .guide-lead") || next.querySelector("h2");
      if (focusTarget) {
        focusTarget.setAttribute("tabindex", "-1");
        focusTarget.focus({ preventScroll: true });
      }
      next.scrollIntoView({ block: "nearest" });
    } catch (error) {
      window.location.href = href; // the plain link still works
    }
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("[data-guide] a[data-guide-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    go(link.href, true);
  });

  window.addEventListener("popstate", function () {
    if (section()) go(window.location.href, false);
  });
})();
