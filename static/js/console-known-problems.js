// Operator console: known problems the question matches, above the articles and set apart
// from them; Alt+K links the call to the first one (with the ticket reference, if typed).
(function () {
  "use strict";
  const L = JSON.parse(document.getElementById("kp-console-labels").textContent);
  const box = document.getElementById("known-problems");
  const csrf = document.querySelector("#console-csrf input[name=csrfmiddlewaretoken]").value;
  let problems = [], lastQuery = "", lastLocale = "", lastSearchId = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function since(iso) {
    const d = new Date(iso);
    return d.toLocaleString(document.documentElement.lang || undefined, { day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function render(list) {
    problems = list || [];
    box.replaceChildren(...problems.map((p, i) => {
      const card = el("article", "kp-card-console");
      card.dataset.knownProblem = p.id;
      const head = el("p", "kp-head");
      head.append(el("span", "kp-label", L.banner_label), " ", el("span", `kp-status kp-status-${p.status}`, p.status_label));
      if (!p.public) head.append(" ", el("span", "badge badge-internal", L.internal));
      card.append(head, el("h3", "kp-title", p.title));
      const meta = el("p", "kp-since", `${L.since} ${since(p.started_at)}`);
      if (p.services.length) meta.append(` · ${L.services}: ${p.services.map((s) => s.name).join(", ")}`);
      card.append(meta);
      if (p.workaround) {
        const w = el("p", "kp-workaround");
        w.append(el("strong", "", `${L.workaround}: `), p.workaround);
        card.append(w);
      }
      const button = el("button", "kp-link");
      button.type = "button";
      button.append(L.link, " ");
      if (i === 0) button.append(el("kbd", "", "Alt+K"));
      button.addEventListener("click", () => link(p));
      card.append(button, el("p", "kp-link-status"));
      card.querySelector(".kp-link-status").setAttribute("role", "status");
      return card;
    }));
  }

  async function link(problem) {
    const ticket = document.getElementById("ticket-ref");
    const resp = await fetch("/api/v1/outcomes/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({
        outcome: "known_problem", known_problem_id: problem.id, query: lastQuery, locale: lastLocale,
        search_id: lastSearchId, ticket_reference: ticket ? ticket.value.trim() : "",
      }),
    });
    const data = await resp.json().catch(() => ({}));
    const card = box.querySelector(`[data-known-problem="${problem.id}"] .kp-link-status`);
    const message = resp.ok ? `${L.linked}${data.ticket_reference ? " · " + data.ticket_reference : ""}` : (data.error || resp.statusText);
    if (card) card.textContent = message;
    document.getElementById("outcome-status").textContent = message;
  }

  document.addEventListener("kb:results", (e) => {
    lastQuery = e.detail.query; lastLocale = e.detail.locale; lastSearchId = e.detail.data.search_id;
    render(e.detail.data.known_problems);
  });
  document.addEventListener("keydown", (e) => {
    if (e.altKey && e.key.toLowerCase() === "k" && problems.length) { e.preventDefault(); link(problems[0]); }
  });
})();
