// Operator console: type while listening, arrows + Enter to open, one key to record the outcome.
(function () {
  "use strict";
  const L = JSON.parse(document.getElementById("console-labels").textContent);
  const $ = (id) => document.getElementById(id);
  const q = $("q"), results = $("results"), card = $("card"), status = $("status");
  const csrf = document.querySelector("#console-csrf input[name=csrfmiddlewaretoken]").value;
  let hits = [], selected = -1, openId = null, lastSearchId = null, requestSeq = 0, timer = null;
  let lastNoArticle = null;
  // The question + filters the listed results answer (null while none), and the search in flight.
  let shownKey = null, pending = null;
  // The search request on the wire. One at a time per console: while it runs, typing only
  // moves the box on, and when it answers just the newest text is sent (the texts typed in
  // between are never asked), so a fast typist on a slow server does not queue requests.
  let inFlight = null;
  let openKey = null;  // translation key of the article on the card (same article, any language)
  // The pause after a keystroke before searching. 250 ms, not 150: a typist's keys come
  // ~240 ms apart on average, so at 150 ms nearly every key sent a search (bench/console_typing.py:
  // 47 searches per pool question before, 25 now; the whole question is listed 100 ms later).
  // Enter does not wait.
  const PAUSE_MS = 250;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "html") node.innerHTML = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function params(extra) {
    const p = new URLSearchParams({ locale: $("locale").value, source: "console", ...extra });
    if ($("level").value) p.set("level", $("level").value);
    if ($("service").value) p.set("service", $("service").value);
    return p;
  }

  function searchKey(text) { return params({ q: text }).toString(); }

  // Search for what is in the box now. Resolves true when its results are the ones listed,
  // false when a newer search took over (a slower, older response never overwrites a newer one).
  function runSearch(keepCard = false) {
    const text = q.value.trim();
    const key = searchKey(text);
    if (pending && pending.key === key) return pending.promise;
    // Already listed ("printer", then a space): nothing to ask.
    if (!pending && shownKey === key) return Promise.resolve(true);
    const seq = ++requestSeq;
    const promise = (async () => {
      if (text.length < 2) { render([], false, null, keepCard); status.textContent = ""; return true; }
      let data;
      results.setAttribute("aria-busy", "true");
      while (inFlight) {
        await inFlight.catch(() => {});
        if (seq !== requestSeq) return false;  // newer text came while waiting: not sent
      }
      try {
        const request = fetch("/api/v1/search/?" + params({ q: text, limit: 8 }), { credentials: "same-origin" })
          .then(async (resp) => ({ resp, data: await resp.json() }));
        inFlight = request;
        request.finally(() => { if (inFlight === request) inFlight = null; }).catch(() => {});
        const answer = await request;
        const resp = answer.resp;
        data = answer.data;
        if (seq !== requestSeq) return false;
        if (!resp.ok) { status.textContent = data.error || resp.statusText; render([], false, null, keepCard); return false; }
      } catch (err) {
        if (seq === requestSeq) status.textContent = String(err);
        return false;
      } finally {
        if (seq === requestSeq) results.removeAttribute("aria-busy");
      }
      lastSearchId = data.search_id;
      document.dispatchEvent(new CustomEvent("kb:results", { detail: { data, query: text, locale: $("locale").value } }));
      status.textContent = data.results.length ? `${data.results.length} · ${data.took_ms} ms` : L.no_results;
      const spoken = data.question_language;
      if (spoken && spoken !== $("locale").value) status.textContent += " · " + L.question_in.replace("%(lang)s", spoken.toUpperCase());
      render(data.results, data.no_good_match, key, keepCard);
      return true;
    })();
    pending = { key, promise };
    promise.finally(() => { if (pending && pending.promise === promise) pending = null; });
    return promise;
  }

  // Enter acts on the question in the box now: when the list answers an older question (or
  // other filters), search first and open the first hit of the new results.
  async function openCurrent() {
    clearTimeout(timer);
    const text = q.value.trim();
    if (text.length < 2) return;
    const key = searchKey(text);
    if (shownKey !== key) {
      const fresh = await runSearch();
      if (!fresh || shownKey !== key || q.value.trim() !== text) return;  // typing went on
    }
    if (selected < 0 && hits.length) select(0);
    openCard();
  }

  function markStale() {
    if (shownKey !== null && shownKey !== searchKey(q.value.trim())) results.classList.add("stale");
  }

  // keepCard: the same question under other filters (contract, language, service): the
  // highlight stays on the article the card shows, or on none when it is no longer listed.
  function render(list, noGoodMatch, key, keepCard) {
    shownKey = key;
    results.classList.remove("stale");
    hits = list;
    if (keepCard && openKey) selected = list.findIndex((h) => h.translation_key === openKey);
    else selected = list.length ? 0 : -1;
    results.replaceChildren(...list.map((h, i) => {
      const badges = [];
      if (h.audience === "internal") badges.push(el("span", { class: "badge badge-internal" }, L.internal));
      if (h.fallback_language) badges.push(el("span", { class: "badge", lang: h.locale }, L.only_in.replace("%(lang)s", (h.available_languages && h.available_languages.length ? h.available_languages : [h.locale]).join(", ").toUpperCase())));
      const step = h.matched.step ? el("span", { class: "matched-step" }, `#${h.matched.step} `) : null;
      const li = el("li", { role: "option", id: `hit-${i}`, "data-id": h.id, class: "hit" },
        el("span", { class: "hit-title" }, h.title), ...badges,
        el("p", { class: "snippet" }, step, h.snippet));
      li.addEventListener("click", () => { select(i); openCard(); });
      return li;
    }));
    if (noGoodMatch && list.length) results.prepend(el("li", { class: "no-good-match", role: "presentation" }, L.no_good_match));
    highlight();
  }

  function highlight() {
    results.querySelectorAll(".hit").forEach((li, i) => li.setAttribute("aria-selected", i === selected ? "true" : "false"));
    const current = selected >= 0 ? $(`hit-${selected}`) : null;
    if (current) { q.setAttribute("aria-activedescendant", current.id); current.scrollIntoView({ block: "nearest" }); }
    else q.removeAttribute("aria-activedescendant");
  }

  function select(i) { if (hits.length) { selected = (i + hits.length) % hits.length; highlight(); } }

  function actionText(a) {
    if (a.action === "step") return el("a", { href: `#card-step-${a.step}` }, `${L.go_to_step} ${a.step}`);
    if (a.action === "question") return el("a", { href: `#card-q-${a.question}` }, `${L.next_question} (${a.question})`);
    if (a.action === "escalate") return el("strong", { class: "escalate" }, `${L.escalate_to} ${a.team || ""}`);
    return el("span", { class: "solved" }, L.solved);
  }

  let cardSeq = 0;  // only the card asked for last may fill the card

  async function openCard() {
    if (selected < 0) return;
    const id = hits[selected].id;
    if (lastSearchId) {
      fetch("/api/v1/clicks/", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ search_id: lastSearchId, article_id: id, position: selected + 1 }) }).catch(() => {});
    }
    await showArticle(id);
  }

  // After a filter change: the listed version of the open article (coverage and language
  // follow the new filters), or the same article again when it is no longer listed.
  async function refreshCard() {
    if (!openId) return;
    await showArticle(selected >= 0 ? hits[selected].id : openId, false);
  }

  function setSolvedEnabled(enabled) {
    const button = $("outcome-solved");
    button.disabled = !enabled;
    button.setAttribute("aria-disabled", enabled ? "false" : "true");
  }

  async function showArticle(id, focus = true) {
    const mine = ++cardSeq;
    card.setAttribute("aria-busy", "true");
    const resp = await fetch(`/api/v1/articles/${id}/?` + params({}), { credentials: "same-origin" });
    if (mine !== cardSeq) return;
    if (!resp.ok) { card.removeAttribute("aria-busy"); return; }
    const a = await resp.json();
    if (mine !== cardSeq) return;
    card.removeAttribute("aria-busy");
    openId = a.id;
    openKey = a.translation_key;
    const parts = [el("h2", { id: "card-title" }, a.title)];
    if (a.audience === "internal") parts.push(el("p", { class: "badge badge-internal" }, L.internal));
    if (a.environment) parts.push(el("p", { class: "environment" }, `${L.environment}: ${a.environment}`));
    if (a.coverage) {
      parts.push(el("section", { class: "coverage" }, el("h3", {}, `${L.coverage} (${a.coverage.level}, ${a.coverage.support_hours})`),
        el("ul", {}, ...a.coverage.services.map((c) => el("li", { class: c.covered ? "covered" : "not-covered" },
          el("strong", {}, `${c.service}: ${c.covered ? L.covered : L.not_covered}`),
          c.targets.length ? el("span", {}, " · " + c.targets.map((t) => `${t.priority} ${L.response} ${t.response} / ${L.resolution} ${t.resolution}`).join(" · ")) : null)))));
    } else {
      parts.push(el("p", { class: "hint" }, L.choose_contract));
    }
    if (a.escalation_team) {
      parts.push(el("p", { class: "team" }, el("strong", {}, `${L.escalation_team}: `),
        `${a.escalation_team.name} · ${a.escalation_team.queue} · ${a.escalation_team.contact} · ${a.escalation_team.hours}`));
      $("team").value = a.escalation_team.id;
    }
    if (a.cause_html) parts.push(el("h3", {}, L.cause), el("div", { html: a.cause_html }));
    parts.push(el("h3", {}, L.steps), el("ol", { class: "steps" }, ...a.steps.map((s) =>
      el("li", { id: `card-step-${s.number}`, class: "step" }, el("div", { html: s.html }),
        s.expected ? el("p", { class: "expected" }, s.expected) : null))));
    for (const script of a.diagnosis) {
      parts.push(el("section", { class: "diagnosis" }, el("h3", {}, `${L.diagnosis}: ${script.title}`),
        el("ol", {}, ...script.questions.map((qq) => el("li", { id: `card-q-${qq.key}` },
          el("p", { class: "question" }, qq.question),
          el("p", {}, `${L.yes}: `, actionText(qq.yes), " · ", `${L.no}: `, actionText(qq.no)))))));
    }
    const actions = el("p", { class: "card-actions" }, el("a", { href: a.url, target: "_blank", rel: "noopener" }, L.open_page));
    if (a.self_service_url) {
      const copy = el("button", { type: "button", id: "copy-link", "data-url": a.self_service_url }, L.copy_link);
      copy.addEventListener("click", () => copyLink(copy));
      actions.append(" ", copy);
    }
    const flagButton = el("button", { type: "button", id: "flag-open", "aria-expanded": "false", "aria-controls": "flag-form" }, L.flag, " ", el("kbd", {}, "Alt+F"));
    flagButton.addEventListener("click", openFlagForm);
    actions.append(" ", flagButton);
    parts.push(actions, flagForm(a.id));
    card.replaceChildren(...parts);
    card.hidden = false;
    setSolvedEnabled(true);
    if (focus) card.focus();
  }

  function flagForm(articleId) {
    const reason = el("select", { id: "flag-reason" }, ...Object.entries(L.flag_reasons).map(([v, label]) => el("option", { value: v }, label)));
    const comment = el("input", { id: "flag-comment", type: "text", maxlength: "1000" });
    const send = el("button", { type: "submit", id: "flag-send" }, L.flag_send);
    const form = el("form", { id: "flag-form", class: "flag-form", hidden: "" },
      el("label", { for: "flag-reason" }, L.flag_reason), reason,
      el("label", { for: "flag-comment" }, L.flag_comment), comment, send,
      el("p", { id: "flag-status", role: "status", "aria-live": "polite" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const resp = await fetch("/api/v1/flags/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ article_id: articleId, reason: reason.value, comment: comment.value, source: "console" }),
      });
      const data = await resp.json().catch(() => ({}));
      $("flag-status").textContent = resp.ok ? L.flag_sent : (data.error || resp.statusText);
      if (resp.ok) { comment.value = ""; }
    });
    return form;
  }

  function openFlagForm() {
    const form = $("flag-form");
    if (!form) return;
    form.hidden = false;
    $("flag-open").setAttribute("aria-expanded", "true");
    $("flag-reason").focus();
  }

  async function captureDraft() {
    const body = { query: lastNoArticle.query, note: lastNoArticle.note, locale: lastNoArticle.locale, service: lastNoArticle.service };
    const resp = await fetch("/api/v1/captures/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    $("capture-status").textContent = resp.ok ? `${L.capture_done}: ${data.title}` : (data.error || resp.statusText);
    if (resp.ok) $("capture-draft").disabled = true;
  }

  async function copyLink(button) {
    const url = button.dataset.url;
    try { await navigator.clipboard.writeText(url); } catch (e) {
      const tmp = el("textarea", {}, url); document.body.append(tmp); tmp.select(); document.execCommand("copy"); tmp.remove();
    }
    button.textContent = L.copied;
  }

  async function recordOutcome(outcome) {
    const body = { outcome, query: q.value.trim(), locale: $("locale").value, search_id: lastSearchId };
    if (outcome !== "no_article" && openId) body.article_id = openId;
    if (outcome === "no_article") body.note = $("note").value;
    if (outcome === "escalated") body.team_id = $("team").value;
    if ($("ticket-ref") && $("ticket-ref").value.trim()) body.ticket_reference = $("ticket-ref").value.trim();
    const resp = await fetch("/api/v1/outcomes/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    const data = await resp.json();
    $("outcome-status").textContent = resp.ok ? L.saved[outcome] : data.error;
    if (resp.ok && outcome === "no_article" && (body.query || body.note)) {
      lastNoArticle = { query: body.query, note: body.note, locale: body.locale, service: $("service").value };
      $("capture-row").hidden = false;
      $("capture-draft").disabled = false;
      $("capture-status").textContent = "";
    }
  }

  q.addEventListener("input", () => { markStale(); clearTimeout(timer); timer = setTimeout(runSearch, PAUSE_MS); });
  for (const id of ["locale", "level", "service"]) {
    $(id).addEventListener("change", async () => {
      clearTimeout(timer);
      if (await runSearch(true)) await refreshCard();
    });
  }
  q.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); select(selected < 0 ? -1 : selected - 1); }
    else if (e.key === "Enter") { e.preventDefault(); openCurrent(); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); card.hidden = true; openId = null; openKey = null; cardSeq++; setSolvedEnabled(false); q.focus(); q.select(); return; }
    if (!e.altKey) return;
    const key = e.key.toLowerCase();
    if (key === "s" && openId) { e.preventDefault(); recordOutcome("solved"); }
    else if (key === "e") { e.preventDefault(); recordOutcome("escalated"); }
    else if (key === "f" && openId) { e.preventDefault(); openFlagForm(); }
    else if (key === "d" && lastNoArticle && !$("capture-draft").disabled) { e.preventDefault(); captureDraft(); }
    else if (key === "n") { e.preventDefault(); if (!$("note").value && document.activeElement !== $("note")) { $("note").focus(); } else { recordOutcome("no_article"); } }
  });
  $("note").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); recordOutcome("no_article"); } });
  $("capture-draft").addEventListener("click", captureDraft);
  document.querySelectorAll(".outcomes button[data-outcome]").forEach((b) => b.addEventListener("click", () => recordOutcome(b.dataset.outcome)));
})();
