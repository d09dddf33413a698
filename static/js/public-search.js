// Public search: results as you type (the form still works without JavaScript).
(function () {
  "use strict";
  const form = document.getElementById("public-search-form");
  if (!form) return;
  const input = document.getElementById("public-q");
  const box = document.getElementById("public-results");
  let timer = null, seq = 0;

  function marked(text, query) {
    const frag = document.createDocumentFragment();
    const words = (query.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) || []).sort((a, b) => b.length - a.length);
    if (!words.length) { frag.append(text); return frag; }
    const re = new RegExp("(" + words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "giu");
    let last = 0;
    for (const m of text.matchAll(re)) {
      frag.append(text.slice(last, m.index));
      const mark = document.createElement("mark"); mark.textContent = m[0]; frag.append(mark);
      last = m.index + m[0].length;
    }
    frag.append(text.slice(last));
    return frag;
  }

  async function run() {
    const q = input.value.trim(), mine = ++seq;
    if (q.length < 3) return;
    const params = new URLSearchParams({ q, locale: form.dataset.locale, limit: 10 });
    let resp, data;
    try { resp = await fetch(form.dataset.api + "?" + params); data = await resp.json(); } catch (e) { return; }
    if (mine !== seq || !resp.ok) return;
    const list = document.createElement("ol"); list.className = "results-list";
    for (const r of data.results) {
      const li = document.createElement("li");
      const h = document.createElement("h2"); h.className = "result-title";
      const a = document.createElement("a"); a.href = r.url + (r.matched.step ? `#step-${r.matched.step}` : ""); a.textContent = r.title;
      h.append(a); li.append(h);
      if (r.fallback_language) { const b = document.createElement("p"); b.className = "badge"; b.textContent = r.locale.toUpperCase(); li.append(b); }
      const p = document.createElement("p"); p.className = "snippet"; p.append(marked(r.snippet, q)); li.append(p);
      list.append(li);
    }
    box.replaceChildren(list);
    // The same calibrated no-good-match decision as the server-rendered page (per model and language).
    if (data.no_good_match) {
      const note = document.createElement("p"); note.className = "no-good-match"; note.id = "no-good-match";
      note.textContent = form.dataset.noGoodMatch; box.prepend(note);
    }
    const help = document.createElement("p"); help.className = "still-need-help";
    const link = document.createElement("a"); link.className = "button"; link.href = `/${form.dataset.locale}/contact/`;
    link.textContent = form.dataset.locale === "nl" ? "Nog hulp nodig? Contacteer ons" : form.dataset.locale === "fr" ? "Besoin d'aide ? Contactez-nous" : "Still need help? Contact us";
    help.append(link); box.append(help);
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 250); });
})();
