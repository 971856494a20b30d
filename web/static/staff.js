// CivicDesk staff pages: API calls with the CSRF token, live events, countdowns, the agent console.
"use strict";
(function () {
  const lang = document.body.dataset.lang || "vi";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  // the page's words from the gettext catalogue (web/pages/common.py js_messages); keys are extracted by `make messages`
  const messages = JSON.parse(document.documentElement.dataset.messages || "{}");
  const t = (key) => messages[key] || key;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function toast(text, ok) {
    const box = $("#toast");
    if (!box) return;
    box.textContent = text;
    box.className = ok ? "ok" : "error";
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  async function api(method, url, body, isForm) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json", "Accept-Language": lang };
    if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : (isForm ? body : JSON.stringify(body)),
    });
    if (response.status === 401) { location.href = "/staff/login?next=" + encodeURIComponent(location.pathname); }
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : t("js_failed");
      const error = new Error(detail);
      error.fields = fieldErrors(data, detail);
      throw error;
    }
    return data;
  }

  // ---- bad input: the reason next to the field, the typed text left as it was -------------------------
  const PROBLEMS = {
    missing: t("js_problem_missing"),
    string_too_short: t("js_problem_too_short"),
    string_too_long: t("js_problem_too_long"),
    int_parsing: t("js_problem_number"),
    enum: t("js_problem_choice"),
    literal_error: t("js_problem_choice"),
  };
  function fieldErrors(data, detail) {
    if (typeof data.field === "string") return [{ name: data.field, text: detail }];
    if (!Array.isArray(data.errors)) return [];
    return data.errors.filter((e) => Array.isArray(e.loc) && e.loc.length > 1).map((e) => {
      const text = PROBLEMS[e.type] || t("js_problem_invalid");
      return { name: String(e.loc[e.loc.length - 1]), text };
    });
  }
  function clearFieldErrors(form) {
    $$(".field-error", form).forEach((el) => el.remove());
    $$("[aria-invalid]", form).forEach((el) => { el.removeAttribute("aria-invalid"); });
  }
  function showFieldErrors(form, errors) {
    let shown = 0;
    errors.forEach((problem, n) => {
      const field = form.elements[problem.name];
      if (!field || !field.insertAdjacentElement) return;
      const note = Object.assign(document.createElement("small"), { className: "field-error", textContent: problem.text });
      note.id = `${form.id || "form"}-error-${n}`;
      (field.closest("label") || field).insertAdjacentElement("afterend", note);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", note.id);
      if (!shown) field.focus();
      shown += 1;
    });
    return shown;
  }
  window.civicdesk = { api, toast };

  // ---- forms that call the API: <form data-method data-url data-then> -----------------------------
  function setPath(target, name, value) {
    const parts = name.split(".");
    let node = target;
    parts.slice(0, -1).forEach((p) => { node = node[p] = node[p] || {}; });
    node[parts[parts.length - 1]] = value;
  }

  function formBody(form) {
    const body = {};
    $$("input[name], select[name], textarea[name]", form).forEach((field) => {
      if (field.type === "file" || field.hasAttribute("data-path")) return;
      let value = field.value;
      if (value === "" ) return;
      const kind = field.dataset.type;
      if (kind === "int") value = parseInt(value, 10);
      else if (kind === "float") value = parseFloat(value);
      else if (kind === "bool") value = value === "true";
      else if (kind === "list") value = value.split(",").map((s) => s.trim()).filter(Boolean);
      else if (kind === "json") value = JSON.parse(value);  // a SyntaxError is shown as the toast
      setPath(body, field.name, value);
    });
    return body;
  }

  async function uploadPhotos(form) {
    for (const input of $$('input[type="file"][data-purpose]', form)) {
      for (const file of input.files) {
        const data = new FormData();
        data.append("file", file);
        data.append("purpose", input.dataset.purpose);
        data.append("public", "true");
        await api("POST", form.dataset.upload, data, true);
      }
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.dataset || !form.dataset.method) return;
    event.preventDefault();
    const button = $("button", form);
    if (button) button.disabled = true;
    clearFieldErrors(form);
    try {
      let url = form.dataset.url;
      if (form.dataset.urlTemplate) {
        url = form.dataset.urlTemplate.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(form.elements[name].value));
      }
      if (form.dataset.upload) await uploadPhotos(form);
      const method = form.dataset.method;
      const body = method === "DELETE" ? undefined : formBody(form);
      const result = await api(method, url, body);
      toast(t("js_saved"), true);
      if (form.dataset.then === "follow" && result.id) location.href = "/staff/tickets/" + result.id;
      else if (form.dataset.then === "reload") setTimeout(() => location.reload(), 300);
      else if (form.dataset.then === "show") $("output", form).textContent = JSON.stringify(result, null, 2);
    } catch (error) {
      // the form is not reset: what the person typed stays for them to correct
      if (!showFieldErrors(form, error.fields || [])) toast(error.message, false);
    } finally {
      if (button) button.disabled = false;
    }
  });

  // ---- countdowns -----------------------------------------------------------------------------------
  function two(n) { return String(n).padStart(2, "0"); }
  function span(seconds) {
    const s = Math.abs(Math.round(seconds));
    const days = Math.floor(s / 86400);
    const clock = `${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
    return days ? `${days} ${t("js_days_short")} ${clock}` : clock;
  }
  function tick() {
    const now = Date.now();
    $$("[data-due]").forEach((el) => {
      if (el.dataset.paused === "true") return;
      const left = (Date.parse(el.dataset.due) - now) / 1000;
      el.textContent = left >= 0 ? `${t("js_left")} ${span(left)}` : `${t("js_overdue")} ${span(left)}`;
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  // ---- live events ----------------------------------------------------------------------------------
  const live = $("#live");
  function connect() {
    if (!live || !window.EventSource) return;
    const source = new EventSource("/staff/events");
    source.onopen = () => { live.textContent = live.dataset.on; live.className = "live on"; };
    source.onerror = () => { live.textContent = live.dataset.off; live.className = "live off"; };
    ["screen_pop", "call_ended", "queue_changed", "ticket_changed"].forEach((kind) => {
      source.addEventListener(kind, (message) => {
        document.dispatchEvent(new CustomEvent("live:" + kind, { detail: JSON.parse(message.data || "{}") }));
      });
    });
  }
  connect();

  // bar lengths come as data attributes: the page's CSP refuses inline style attributes
  function sizeBars(root) {
    $$("[data-n]", root).forEach((bar) => bar.style.setProperty("--n", bar.dataset.n));
    $$("[data-w]", root).forEach((bar) => bar.style.setProperty("--w", bar.dataset.w + "%"));
  }
  sizeBars(document);

  // regions that re-read themselves when something they show may have changed
  $$("[data-refresh-on]").forEach((region) => {
    let pending = null;
    document.addEventListener("live:" + region.dataset.refreshOn, () => {
      if (pending) return;
      pending = setTimeout(async () => {
        pending = null;
        const page = await fetch(location.href, { credentials: "same-origin" }).then((r) => r.text());
        const fresh = new DOMParser().parseFromString(page, "text/html").getElementById(region.id);
        if (fresh) { region.innerHTML = fresh.innerHTML; sizeBars(region); tick(); }
      }, 800);
    });
  });

  // ---- supervisor wallboard -------------------------------------------------------------------------
  const wallboard = $("#wallboard");
  function format(el, value) {
    // a rate over no calls comes as null: a dash, never "NaN%"
    if (el.dataset.format === "percent") return typeof value === "number" && Number.isFinite(value) ? Math.round(value * 100) + "%" : "—";
    if (el.dataset.format === "duration") return span(value || 0);
    return value;
  }
  async function refreshQueue() {
    try {
      const queue = await api("GET", wallboard.dataset.queueUrl);
      $$("[data-kpi]", wallboard).forEach((el) => { el.textContent = format(el, queue[el.dataset.kpi]); });
      Object.entries(queue.agents || {}).forEach(([state, n]) => {
        const bar = $(`[data-agent-state="${state}"]`, wallboard);
        const count = $(`[data-agent-count="${state}"]`, wallboard);
        if (bar) bar.style.setProperty("--n", n);
        if (count) count.textContent = n;
      });
    } catch (error) { /* the live indicator already says we are offline */ }
  }
  if (wallboard) {
    // percentages arrive already written by the server; durations come as seconds
    $$('[data-kpi][data-format="duration"]', wallboard).forEach((el) => { el.textContent = format(el, parseFloat(el.textContent)); });
    document.addEventListener("live:queue_changed", refreshQueue);
    setInterval(refreshQueue, 5000);
  }

  // ---- agent console --------------------------------------------------------------------------------
  const callBody = $("#call-body");
  const ticketForm = $("#new-ticket");
  let currentCall = null;

  function ticketItem(line) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/staff/tickets/" + line.id;
    a.textContent = line.code;
    li.append(a, " · " + (line.channel ? line.channel + " · " : "") + (line.title || line.status || ""));
    if (line.last_message) {
      // the person's latest word on that ticket, whichever channel it came by
      const last = document.createElement("small");
      last.className = "muted last-message";
      last.textContent = line.last_message.channel + ": " + line.last_message.text.slice(0, 120);
      li.append(document.createElement("br"), last);
    }
    return li;
  }

  function showCall(pop) {
    currentCall = pop;
    const card = $("#call-template").content.cloneNode(true);
    $('[data-field="caller_number"]', card).textContent = pop.caller_number || "—";
    $('[data-field="citizen"]', card).textContent = pop.citizen ? (pop.citizen.display_name || "") : t("unknown_caller");
    $('[data-field="state"]', card).textContent = (t("js_ringing_queue") + " ") + (pop.queue || "");
    ["open_tickets", "recent_tickets"].forEach((key) => {
      const list = $(`[data-list="${key}"]`, card);
      (pop[key] || []).forEach((line) => list.append(ticketItem(line)));
      if (!(pop[key] || []).length) list.append(Object.assign(document.createElement("li"), { textContent: "—" }));
    });
    callBody.replaceChildren(card);
    $("#call-card").classList.add("ringing");
    $("#file-from-call").addEventListener("click", fillFromCall);
  }

  function fillFromCall() {
    if (!currentCall || !ticketForm) return;
    ticketForm.elements.uniqueid.value = currentCall.uniqueid;
    ticketForm.elements.phone.value = currentCall.caller_number || "";
    if (currentCall.citizen && currentCall.citizen.display_name) ticketForm.elements.citizen_name.value = currentCall.citizen.display_name;
    ticketForm.elements.description.focus();
  }

  if (callBody) {
    document.addEventListener("live:screen_pop", (event) => showCall(event.detail));
    document.addEventListener("live:call_ended", (event) => {
      if (currentCall && event.detail.uniqueid === currentCall.uniqueid) {
        $("#call-card").classList.remove("ringing");
        const state = $('[data-field="state"]', callBody);
        if (state) state.textContent = t("call_ended");
      }
    });
  }

  const pause = $("#pause");
  if (pause) {
    pause.addEventListener("click", async () => {
      const paused = pause.dataset.paused !== "true";
      try {
        await api("POST", "/api/v1/telephony/agents/me/pause", { paused, reason: paused ? $("#pause-reason").value : "" });
        pause.dataset.paused = String(paused);
        pause.textContent = (paused ? pause.dataset.unpause : pause.dataset.pause) + " (Alt+P)";
        toast(paused ? t("js_pause_requested") : t("js_ready"), true);
      } catch (error) { toast(error.message, false); }
    });
  }

  // Alt+P without a linked extension: say why nothing can pause, instead of doing nothing
  function noExtension() {
    const note = $("#no-extension");
    if (!note) return;
    toast(note.dataset.altP, false);
    note.focus();
  }

  let suggestion = null;
  function optionText(select, code) {
    const option = Array.from(select.options).find((o) => o.value === code);
    return option ? option.textContent : (code || "—");
  }
  async function suggest() {
    const text = ticketForm.elements.description.value.trim();
    if (text.length < 5) return;
    try {
      suggestion = await api("POST", "/api/v1/triage/suggest", { text, channel: "phone" });
    } catch (error) { return; }
    const box = $("#suggestions");
    box.hidden = false;
    $('[data-s="category"]', box).textContent = optionText(ticketForm.elements.category, suggestion.category);
    $('[data-s="ward"]', box).textContent = optionText(ticketForm.elements.ward, suggestion.ward);
    const departments = JSON.parse(($("#department-names") || {}).textContent || "{}");
    $('[data-s="department"]', box).textContent = departments[suggestion.department] || suggestion.department || "—";
    $('[data-s="confidence"]', box).textContent = `(${Math.round((suggestion.category_confidence || 0) * 100)}%)`;
    const dupes = suggestion.duplicates || [];
    $('[data-s="duplicates"]', box).hidden = !dupes.length;
    const list = $('[data-s="duplicate-list"]', box);
    list.replaceChildren(...dupes.map((d) => Object.assign(document.createElement("a"), { href: "/staff/tickets/" + d.ticket_id, textContent: `${d.code} (${Math.round(d.score)}${d.why ? ": " + d.why : ""}) ` })));
  }
  function applySuggestion() {
    if (!suggestion) return;
    if (suggestion.category) ticketForm.elements.category.value = suggestion.category;
    if (suggestion.ward) ticketForm.elements.ward.value = suggestion.ward;
    if (suggestion.priority) ticketForm.elements.priority.value = suggestion.priority;
    const address = suggestion.address || {};
    const parts = [address.house_number && t("js_house_number") + " " + address.house_number, address.alley, address.street].filter(Boolean);
    if (parts.length && !ticketForm.elements.address.value) ticketForm.elements.address.value = parts.join(" ");
  }
  if (ticketForm) {
    let timer = null;
    ticketForm.elements.description.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 400); });
    $("#apply-suggestions").addEventListener("click", applySuggestion);
    ticketForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      ["description", "phone", "citizen_name", "address", "category", "ward", "priority"].forEach((name) => {
        const value = ticketForm.elements[name].value.trim();
        if (value) body[name] = value;
      });
      const uniqueid = ticketForm.elements.uniqueid.value;
      body.channel = "phone";
      try {
        const url = uniqueid ? `/api/v1/calls/${encodeURIComponent(uniqueid)}/tickets` : "/api/v1/tickets";
        const ticket = await api("POST", url, body);
        const saved = $("#saved");
        saved.hidden = false;
        const link = $("a", saved);
        link.href = "/staff/tickets/" + ticket.id;
        link.textContent = ticket.code;
        ticketForm.reset();
        ticketForm.elements.uniqueid.value = "";
        $("#suggestions").hidden = true;
        toast((t("saved_ticket") + " ") + ticket.code, true);
      } catch (error) { toast(error.message, false); }
    });
  }

  // ---- list filters: folded away on a phone (the list comes first), open on a wider screen -----------
  if (window.matchMedia("(min-width: 641px)").matches) {
    $$("details.more-filters").forEach((details) => { details.open = true; });
  }

  // ---- canned replies: <select data-insert-into="#textarea"> puts the chosen text at the cursor --------
  $$("select[data-insert-into]").forEach((select) => {
    select.addEventListener("change", () => {
      const box = $(select.dataset.insertInto);
      if (!box || !select.value) return;
      const start = box.selectionStart ?? box.value.length;
      const end = box.selectionEnd ?? box.value.length;
      box.value = box.value.slice(0, start) + select.value + box.value.slice(end);
      const caret = start + select.value.length;
      box.focus();
      box.setSelectionRange(caret, caret);
      select.value = "";
    });
  });

  // ---- keyboard shortcuts for the agent's frequent actions ------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    const actions = {
      n: () => { if (ticketForm) { if (currentCall) fillFromCall(); ticketForm.elements.description.focus(); } },
      p: () => (pause ? pause.click() : noExtension()),
      s: () => ticketForm && ticketForm.requestSubmit(),
      i: () => $("#inbox") && $("#inbox").focus(),
      t: () => $("#triage") && $("#triage").focus(),
    };
    if (actions[key]) { event.preventDefault(); actions[key](); }
  });
})();
