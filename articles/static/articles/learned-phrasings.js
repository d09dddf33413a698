// "Customers also describe this as …": list learned wordings; add one to the issue or reject it.
(function () {
  "use strict";
  function csrfToken() {
    const field = document.querySelector("input[name='csrfmiddlewaretoken']");
    if (field) return field.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  function init() {
    const box = document.getElementById("kb-learned");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    const list = document.getElementById("kb-learned-list");
    const status = document.getElementById("kb-learned-status");
    const issue = document.getElementById("id_issue");

    async function send(item, action) {
      const resp = await fetch(item.review_url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ action: action }),
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(data.error || resp.statusText);
      return data;
    }
    function button(label, className, onClick) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "button button-small " + className; b.textContent = label;
      b.addEventListener("click", onClick);
      return b;
    }
    function render(items) {
      status.textContent = items.length ? "" : box.dataset.empty || "No learned wordings yet.";
      list.replaceChildren(...items.map((item) => {
        const li = document.createElement("li");
        li.className = "kb-learned-item"; li.dataset.id = item.id;
        const text = document.createElement("q"); text.className = "kb-learned-text"; text.textContent = item.text;
        const meta = document.createElement("span"); meta.className = "kb-learned-meta";
        const bits = [item.calls + (item.calls === 1 ? " call" : " calls"),
          item.sources + (item.sources === 1 ? " operator or session" : " operators or sessions"),
          (item.languages.length ? item.languages.join(", ").toUpperCase() : "–"),
          item.searchable ? "searchable" : "not confirmed yet"];
        meta.textContent = " · " + bits.join(" · ") + " ";
        const promote = button("Add to issue", "kb-learned-promote", async () => {
          try {
            await send(item, "promote");
            if (issue) {
              issue.value = issue.value.replace(/\s*$/, "") + (issue.value.trim() ? "\n" : "") + item.text;
              issue.dispatchEvent(new Event("input", { bubbles: true }));
              issue.dispatchEvent(new Event("change", { bubbles: true }));
            }
            li.remove();
            status.textContent = "Added to the issue: save and publish (or submit) the article to keep it.";
          } catch (err) { status.textContent = String(err.message || err); }
        });
        const reject = button("Reject", "button-secondary no kb-learned-reject", async () => {
          try {
            await send(item, "reject");
            li.remove();
            status.textContent = "Rejected: this wording will not be learned again for this article.";
          } catch (err) { status.textContent = String(err.message || err); }
        });
        li.append(text, meta, promote, " ", reject);
        return li;
      }));
    }
    async function load() {
      status.textContent = "…";
      try {
        const resp = await fetch(box.dataset.endpoint, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const data = await resp.json();
        if (!resp.ok) { status.textContent = data.error || resp.statusText; return; }
        render(data.results);
      } catch (err) { status.textContent = String(err); }
    }
    load();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
