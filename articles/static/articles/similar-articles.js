// Similar articles while writing: debounced fetch on title/issue changes; newest answer wins.
(function () {
  "use strict";
  function init() {
    const box = document.getElementById("kb-similar");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    const list = document.getElementById("kb-similar-list");
    const status = document.getElementById("kb-similar-status");
    const warning = document.getElementById("kb-duplicate-warning");
    const title = document.getElementById("id_title");
    const issue = document.getElementById("id_issue");
    let timer = null, seq = 0;

    async function refresh() {
      const mine = ++seq;
      const params = new URLSearchParams({ title: title ? title.value : "", issue: issue ? issue.value : "" });
      // A new page gets an id once Wagtail autosaves it (the URL becomes .../pages/<id>/edit/).
      const fromUrl = window.location.pathname.match(/\/pages\/(\d+)\/edit\//);
      const pageId = box.dataset.pageId || (fromUrl && fromUrl[1]);
      if (pageId) params.set("page_id", pageId);
      if (!params.get("title").trim() && !params.get("issue").trim()) { list.replaceChildren(); warning.hidden = true; status.textContent = ""; return; }
      status.textContent = "…";
      let data;
      try {
        const resp = await fetch(box.dataset.endpoint + "?" + params, { credentials: "same-origin", headers: { Accept: "application/json" } });
        data = await resp.json();
        if (mine !== seq) return;
        if (!resp.ok) { status.textContent = data.error || resp.statusText; return; }
      } catch (err) { if (mine === seq) status.textContent = String(err); return; }
      const L = box.dataset;
      status.textContent = data.results.length ? "" : L.labelNone;
      list.replaceChildren(...data.results.map((r) => {
        const li = document.createElement("li");
        li.className = "kb-similar-item" + (r.is_duplicate ? " kb-similar-duplicate" : "");
        li.dataset.id = r.id;
        const a = document.createElement("a");
        a.href = r.edit_url; a.target = "_blank"; a.rel = "noopener"; a.textContent = r.title;
        const meta = document.createElement("span");
        meta.className = "kb-similar-meta";
        const bits = [r.locale.toUpperCase(), r.live ? L.labelLive : L.labelDraft, r.kcs_state.replace("_", " "), Math.round(r.score * 100) + "% " + L.labelSimilar];
        if (r.is_translation) bits.push(L.labelTranslation);
        if (r.draft_status === "mine") bits.push(L.labelMine);
        if (r.draft_status === "abandoned") bits.push(L.labelAbandoned);
        if (r.draft_status) li.classList.add("kb-similar-unfinished");
        meta.textContent = " · " + bits.join(" · ");
        li.append(a, meta);
        return li;
      }));
      warning.hidden = !data.results.some((r) => r.is_duplicate);
    }
    function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
    for (const field of [title, issue]) if (field) field.addEventListener("input", schedule);
    refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
