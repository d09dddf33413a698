// Public search: results as you type (the form still works without JavaScript). It says what
// the submitted page says: when nothing matches well, which results are in another language,
// and the customer-worded error when a question cannot be searched. Its words come from the
// page (translated by Django) in data attributes of the form.
(function () {
  "use strict";
  const form = document.getElementById("public-search-form");
  // A search limited to one topic (from a category page) is answered by the submitted page.
  if (!form || form.querySelector("input[name=category]")) return;
  const input = document.getElementById("public-q");
  const box = document.getElementById("public-results");
  const words = form.dataset;
  let timer = null, seq = 0;
  const stopwords = new Set((words.stopwords || "").split(" "));

  function marked(text, query) {
    const frag = document.createDocumentFragment();
    // Like the submitted page: no function words ('mijn', 'des'), only at the start of a word.
    const all = query.toLowerCase().match(/[\p{L}\p{N}_]{3,}/gu) || [];
    const kept = all.filter((w) => !stopwords.has(w));
    const terms = [...new Set(kept.length ? kept : all)].sort((a, b) => b.length - a.length);
    if (!terms.length) { frag.append(text); return frag; }
    const re = new RegExp("(?<![\\p{L}\\p{N}_])(" + terms.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "giu");
    let last = 0;
    for (const m of text.matchAll(re)) {
      frag.append(text.slice(last, m.index));
      const mark = document.createElement("mark"); mark.textContent = m[0]; frag.append(mark);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    return frag;
  }

  function node(tag, attrs, text) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function showError(message) {
    let alert = document.getElementById("public-search-error");
    if (!alert) { alert = node("p", { id: "public-search-error", class: "error", role: "alert" }); form.after(alert); }
    alert.textContent = message;
    alert.hidden = !message;
  }

  async function run() {
    const q = input.value.trim(), mine = ++seq;
    if (q.length < 3) return;
    const params = new URLSearchParams({ q, locale: form.dataset.locale, limit: 10 });
    let resp, data;
    try { resp = await fetch(form.dataset.api + "?" + params); data = await resp.json(); } catch (e) { return; }
    if (mine !== seq) return;
    if (!resp.ok) { showError(data.error || resp.statusText); return; }
    showError("");
    const parts = [];
    if (data.no_good_match) parts.push(node("p", { class: "no-good-match", id: "no-good-match" }, words.noGoodMatch));
    if (data.results.length) {
      const list = node("ol", { class: "results-list" });
      for (const r of data.results) {
        const li = node("li");
        const h = node("h2", { class: "result-title" });
        h.append(node("a", { href: r.url + (r.matched.step ? `#step-${r.matched.step}` : "") }, r.title));
        li.append(h);
        if (r.fallback_language) li.append(node("p", { class: "badge", lang: r.locale }, words.onlyIn.replace("%(lang)s", (r.available_languages && r.available_languages.length ? r.available_languages : [r.locale]).join(", ").toUpperCase())));
        const p = node("p", { class: "snippet" });
        if (r.matched.step) { p.append(node("strong", {}, words.step.replace("%(n)s", r.matched.step) + ":"), " "); }
        p.append(marked(r.snippet, q));
        li.append(p);
        list.append(li);
      }
      parts.push(list);
    } else {
      parts.push(node("p", {}, words.noResults));
    }
    renderKnownProblems(data.known_problems || []);
    const help = node("p", { class: "still-need-help" });
    help.append(node("a", { class: "button", href: `/${form.dataset.locale}/contact/` }, words.contact));
    parts.push(help);
    box.replaceChildren(...parts);
  }

  // Known problems the question matches come first, set apart from the articles.
  function renderKnownProblems(problems) {
    const section = document.getElementById("public-known-problems");
    const labelsNode = document.getElementById("kp-labels");
    if (!section || !labelsNode) return;
    const L = JSON.parse(labelsNode.textContent);
    section.replaceChildren(...problems.map((p) => {
      const item = document.createElement("article"); item.className = "kp-match"; item.dataset.knownProblem = p.id;
      const label = document.createElement("p"); label.className = "kp-match-label"; label.textContent = L.matching;
      const h = document.createElement("h2"); h.className = "kp-title"; h.textContent = p.title + " ";
      const st = document.createElement("span"); st.className = `kp-status kp-status-${p.status}`; st.textContent = p.status_label; h.append(st);
      const since = document.createElement("p"); since.className = "kp-since";
      since.textContent = `${L.since} ${new Date(p.started_at).toLocaleString(form.dataset.locale, { day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit" })}`;
      item.append(label, h, since);
      if (p.customer_text) { const t = document.createElement("p"); t.className = "kp-text"; t.textContent = p.customer_text; item.append(t); }
      if (p.workaround) {
        const w = document.createElement("p"); w.className = "kp-workaround";
        const strong = document.createElement("strong"); strong.textContent = `${L.workaround}: `;
        w.append(strong, p.workaround); item.append(w);
      }
      return item;
    }));
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 250); });
})();
