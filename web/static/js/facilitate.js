/* Facilitator: create a session from a preset, then run it from a live dashboard. */
"use strict";
(() => {
  const { t, $, $$, el, num, money, setText, store, api } = BG;
  const FAC_KEY = (code) => "beergame.fac." + code;
  const root = $("#fac");
  let code = root.dataset.code;
  let scenarios = [];
  let socket = null;
  let last = null;

  // ---- create ---------------------------------------------------------------------------------
  async function loadScenarios() {
    const r = await api("/api/scenarios");
    if (!r.ok) { setText("#create-error", BG.errorText(r.data && r.data.error)); return; }
    scenarios = r.data || [];
    const sel = $("#scenario");
    sel.replaceChildren(...scenarios.map((s) => el("option", { value: s.name, text: s.title || s.name })));
    sel.addEventListener("change", applyPreset);
    $("#codp_position").addEventListener("change", explainPosition);
    $("#scn-file").addEventListener("change", upload);
    $("#scn-reset").addEventListener("click", resetToPreset);
    $("#scn-download").addEventListener("click", downloadToml);
    $("#weeks").addEventListener("input", moveEnds);
    applyPreset();
  }

  /** A new length scales the scenario's window of weeks the game may end in, rounded half up
   * (as the server does when no window is sent: game.horizon.with_length). */
  function moveEnds() {
    const d = $("#weeks").dataset;
    const now = Number.parseInt($("#weeks").value, 10), planned = Number(d.planned);
    if (Number.isNaN(now) || now < 1 || !planned) return;
    $("#end_first").value = Math.max(1, Math.min(now, Math.round((Number(d.first) * now) / planned)));
    $("#end_last").value = Math.min(520, Math.max(now, Math.round((Number(d.last) * now) / planned)));
  }

  // ---- the session's own scenario: an edited preset or an uploaded file ------------------------
  let custom = null; // null: the preset as it is; else {document} or {toml, file}
  let checked = null; // the last answer of POST /api/scenarios/check
  let checkTimer = null;

  async function loadDocument(name) {
    const r = await api("/api/scenarios/" + encodeURIComponent(name) + "/document");
    if (!r.ok) { setText("#scn-error", BG.errorText(r.data && r.data.error)); return; }
    ScenarioEditor.render($("#scn-keys"), r.data.document, edited);
  }

  function edited(ev) {
    if (ev && ev.target && ev.target.id === "scn-file") return;
    custom = { document: ScenarioEditor.collect($("#scn-keys")) };
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 350);
  }

  /** Validate the own scenario on the server (the command line's messages) and adopt its settings. */
  async function check() {
    if (!custom) return true;
    const asked = custom;
    const r = await api("/api/scenarios/check", { method: "POST", json: { custom_scenario: asked } });
    if (asked !== custom) return check(); // an upload or another edit came meanwhile: its answer counts
    if (!r.ok) {
      checked = null;
      setText("#scn-status", "");
      setText("#scn-error", BG.errorText(r.data && r.data.error));
      return false;
    }
    checked = r.data;
    setText("#scn-error", "");
    setText("#scn-status", t("own_scenario", { title: r.data.scenario.title }) + (custom.file ? " (" + custom.file + ")" : ""));
    applySummary(r.data.scenario);
    return true;
  }

  async function upload() {
    const file = $("#scn-file").files[0];
    if (!file) return;
    clearTimeout(checkTimer); // an edit made before the upload is not checked any more
    custom = { toml: await file.text(), file: file.name };
    const ok = await check();
    setText("#scn-file-error", ok ? "" : $("#scn-error").textContent); // beside the file picker
    if (ok) ScenarioEditor.render($("#scn-keys"), checked.document, edited);
  }

  function resetToPreset() {
    custom = null;
    checked = null;
    $("#scn-file").value = "";
    setText("#scn-status", "");
    setText("#scn-error", "");
    setText("#scn-file-error", "");
    applyPreset();
  }

  function downloadToml() {
    const name = (checked ? checked.scenario.name : $("#scenario").value) + ".toml";
    const go = (text) => {
      // hidden and named: the helper link is never seen, yet carries its file's name
      const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/toml" })), download: name, hidden: true, text: name });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    };
    if (checked) go(checked.toml);
    else api("/api/scenarios/check", { method: "POST", json: { custom_scenario: { document: ScenarioEditor.collect($("#scn-keys")) } } })
      .then((r) => (r.ok ? go(r.data.toml) : setText("#scn-error", BG.errorText(r.data && r.data.error))));
  }

  function applyPreset() {
    const s = scenarios.find((x) => x.name === $("#scenario").value);
    if (!s) return;
    clearTimeout(checkTimer);
    custom = null;
    checked = null;
    setText("#scn-status", "");
    setText("#scn-error", "");
    applySummary(s);
    loadDocument(s.name);
  }

  /** The form's weeks, positions and visibility from a scenario summary. */
  function applySummary(s) {
    setText("#scenario-desc", s.description || "");
    $("#weeks").value = s.weeks;
    const ends = s.end_window || [s.weeks, s.weeks];
    $("#end_first").value = ends[0];
    $("#end_last").value = ends[1];
    Object.assign($("#weeks").dataset, { planned: s.weeks, first: ends[0], last: ends[1] });
    $("#end_known").checked = !!s.end_known;
    const pos = $("#codp_position");
    const preset = s.codp ? " (" + BG.codpTitle(s.codp) + ")" : "";
    pos.replaceChildren(el("option", { value: "", text: t("codp_default") + preset }),
      ...(s.codp_positions || []).map((p) => el("option", { value: p.key || p, text: BG.codpTitle(p.key || p) })));
    const vis = s.visibility || {};
    for (const k of ["pos_demand", "inventories", "pipelines"]) $("#vis_" + k).checked = !!vis[k];
    summaryShown = s;
    explainPosition();
  }

  /** What the chosen position (or the preset's) means for this scenario, under the select. */
  let summaryShown = null;
  function explainPosition() {
    const s = summaryShown || {};
    const key = $("#codp_position").value || s.codp;
    const p = (s.positions || []).find((x) => x.position === key);
    const label = (role) => BG.roleLabel(role, (s.labels || {})[role]);
    const title = el("strong", { text: BG.codpTitle(key) + ": " });
    $("#codp-explain").replaceChildren(...(p ? [title, ...BG.codpFacts(p, label).map((f) => el("span", { class: "fact", text: f }))] : []));
  }

  async function create(ev) {
    ev.preventDefault();
    const int = (id) => Number.parseInt($(id).value, 10);
    const body = {
      scenario: $("#scenario").value,
      teams: int("#teams"),
      weeks: int("#weeks"),
      end_window: [int("#end_first"), int("#end_last")],
      end_known: $("#end_known").checked,
      round_seconds: int("#round_seconds") || 0,
      visibility: { pos_demand: $("#vis_pos_demand").checked, inventories: $("#vis_inventories").checked, pipelines: $("#vis_pipelines").checked },
      bot_policy: $("#bot_policy").value,
      seed: int("#seed") || 0,
    };
    const codp = { rule: $("#codp_rule").value };
    if ($("#codp_position").value) codp.position = $("#codp_position").value;
    body.codp = codp;
    if (custom) {
      if (!(await check())) { setText("#create-error", $("#scn-error").textContent); return; }
      delete body.scenario;
      body.custom_scenario = custom;
    }
    if (body.end_window.some(Number.isNaN)) delete body.end_window;
    for (const [k, v] of Object.entries(body)) if (typeof v === "number" && Number.isNaN(v)) delete body[k];
    $("#create-btn").disabled = true;
    const r = await api("/api/sessions", { method: "POST", json: body });
    $("#create-btn").disabled = false;
    if (!r.ok) { setText("#create-error", BG.errorText(r.data && r.data.error)); return; }
    code = r.data.code;
    store.set(FAC_KEY(code), { code, secret: r.data.facilitator_secret, join_url: r.data.join_url });
    location.href = "/facilitate/" + code;
  }

  // ---- dashboard ------------------------------------------------------------------------------
  function secret() {
    const m = /(?:^#|&)s=([^&]+)/.exec(location.hash);
    if (m) {
      store.set(FAC_KEY(code), { code, secret: decodeURIComponent(m[1]) });
      history.replaceState(null, "", location.pathname);
    }
    const entry = store.get(FAC_KEY(code));
    return entry ? entry.secret : null;
  }

  async function facilitate() {
    const s = secret();
    if (!s) { setText("#dash-error", t("no_secret")); $("#secret-form").hidden = false; return; }
    const ack = await socket.request("facilitate", { code, secret: s });
    setText("#dash-error", ack.ok ? "" : BG.errorText(ack));
    $("#secret-form").hidden = ack.ok || (ack.error && ack.error.code) !== "forbidden";
  }

  function statusOf(session) {
    if (session.paused) return "paused";
    return session.status || "setup";
  }

  /** Draw the whole table (``dashboard``) or, given ``changed`` rows, only those. */
  function render(d, changed) {
    last = d;
    last.receivedAt = Date.now() / 1000;
    const s = d.session || {};
    const st = statusOf(s);
    const pill = $("#d-status");
    pill.textContent = t("status_" + st) === "status_" + st ? st : t("status_" + st);
    pill.className = "status-pill " + st;
    const wks = (d.teams || []).map((x) => x.week);
    const lo = Math.min(...wks), hi = Math.max(...wks);
    // the header may be projected: the last week only once the players know it
    setText("#d-week", wks.length ? BG.weekText(lo === hi ? lo : lo + "–" + hi, s.end_known ? s.weeks : null) : "");
    setText("#d-end", s.weeks ? t(s.end_known ? "end_told" : "end_hidden", { weeks: s.weeks }) : "");
    setText("#d-title", BG.scenarioTitle(s.title));
    if (document.activeElement !== $("#timer-seconds")) $("#timer-seconds").value = s.round_seconds || 0;
    const over = st === "over";
    const enable = { start: st === "setup", pause: st === "running", resume: st === "paused", force_round: st === "running", end: !over, reveal_end: !over && !s.end_known };
    for (const b of $$("[data-action]")) b.disabled = !enable[b.dataset.action];
    // the grid is redrawn on every update: keep keyboard focus on the same seat button
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const body = $("#teams-body");
    if (changed) {
      // an update: redraw only the rows that changed (a lecture hall has hundreds)
      for (const tm of changed) {
        const tr = teamRow(tm);
        const old = body.querySelector(`tr[data-team="${tm.team}"]`);
        if (old) old.replaceWith(tr);
        else body.append(tr);
      }
    } else {
      body.replaceChildren(...(d.teams || []).map(teamRow));
    }
    if (focused) {
      const again = body.querySelector(`[data-key="${focused}"]`);
      if (again) again.focus();
    }
    tick();
  }

  function teamRow(tm) {
    const over = !!tm.done || (last && last.session && last.session.status === "over");
    const played = tm.week > 1 || !!tm.done; // no money before a week is played
    const decided = tm.decided || [];
    const bots = tm.bots || [];
    const seats = (tm.seats || []).map((seat) => {
      const role = seat.role;
      const label = BG.roleLabel(role, seat.label);
      const isBot = seat.bot ?? bots.includes(role);
      const done = decided.includes(role);
      const who = seat.name || (isBot ? "" : t("open_seat"));
      const canReturn = seat.forced || seat.taken;
      const btn = isBot && !canReturn ? "" : el("button", {
        type: "button",
        class: "btn small",
        text: isBot ? t("to_human") : t("to_bot"),
        // the accessible name starts with the visible text (what a speech-input user says)
        "aria-label": (isBot ? t("to_human") : t("to_bot")) + ": " + t(isBot ? "seat_to_human" : "seat_to_bot", { role: label, team: tm.team }),
        "data-key": `seat-${tm.team}-${role}`,
        onclick: () => control(isBot ? "seat_to_human" : "seat_to_bot", { team: tm.team, role }),
      });
      const offline = seat.connected === false && !isBot;
      const playing = !over; // after the end nobody decides: no ticks or dots
      return el("div", { class: "seat" + (done && playing ? " decided" : "") + (isBot ? " is-bot" : "") + (offline ? " is-offline" : "") }, [
        playing ? el("span", { class: "mark " + (done ? "done" : "todo"), "aria-hidden": "true", text: done ? "✓" : "…" }) : "",
        playing ? el("span", { class: "sr-only", text: done ? t("has_decided") : t("not_decided") }) : "",
        el("span", { class: "role", text: label }),
        who ? el("span", { class: "who", text: who }) : "",
        isBot ? el("span", { class: "tag bot", text: t("bot") }) : "",
        offline ? el("span", { class: "tag offline", text: t("offline") }) : "",
        btn,
      ]);
    });
    const look = el("button", {
      type: "button",
      class: "btn small look",
      text: t("look_inside"),
      "aria-label": t("look_inside") + ": " + BG.teamName(tm.team, tm.name),
      "data-key": `look-${tm.team}`,
      onclick: () => inspect(tm.team),
    });
    return el("tr", { "data-team": tm.team }, [
      el("th", { scope: "row" }, [
        el("span", { class: "team-name", text: BG.teamName(tm.team, tm.name) }),
        tm.codp || tm.shop ? el("span", { class: "codp", text: BG.strategyTitle(tm.codp, tm.shop) }) : "",
        look,
      ]),
      el("td", { "data-label": t("week"), text: tm.week }),
      el("td", { class: "seats" }, [el("div", { class: "seat-grid" }, seats)]),
      el("td", { "data-label": t("cost"), text: played ? money(tm.cost) : "–" }),
      el("td", { "data-label": t("profit"), text: played ? money(tm.profit) : "–" }),
    ]);
  }

  // ---- one team in detail (inspect): every stage, and stock per variant and region ------------
  let detailTeam = null;
  async function inspect(team) {
    const ack = await socket.request("inspect", { team });
    if (!ack.ok) { setText("#control-status", BG.errorText(ack)); return; }
    const first = detailTeam !== team;
    detailTeam = team;
    renderDetail(ack.team);
    if (first) $("#team-detail").scrollIntoView({ block: "nearest" });
  }

  function renderDetail(tm) {
    const v = tm.view || {};
    const box = $("#team-detail");
    box.hidden = false;
    const chain = v.chain || [];
    const labels = Object.fromEntries(chain.map((c) => [c.role, BG.roleLabel(c.role, c.label)]));
    setText("#h-detail", BG.teamName(tm.team, tm.name) + " · " + BG.weekText(v.week, v.end_known ? v.weeks : null));
    const stages = v.stages || {};
    $("#detail-stages tbody").replaceChildren(...Object.entries(stages).map(([role, s]) => el("tr", {}, [
      el("th", { scope: "row", text: labels[role] || role }),
      el("td", { text: s.mode === "mto" ? t("mode_mto") : t("mode_mts") }),
      el("td", { text: num(s.on_hand) }),
      el("td", { text: num(s.backlog) }),
      el("td", { text: (s.on_the_way || []).map(num).join(" · ") || "–" }),
      el("td", { text: s.mode === "mto" ? num(s.capacity) : "–" }),
    ])));
    // the stock points of the latest week played (a role with one stock point has one entry)
    const weeks = v.history || [];
    const latest = weeks.length ? weeks[weeks.length - 1].roles || {} : {};
    const rows = [];
    for (const [role, ev] of Object.entries(latest)) {
      const skus = ev.skus || {};
      if (Object.keys(skus).length < 2) continue;
      for (const [name, sku] of Object.entries(skus)) {
        const where = BG.stockPoint(name);
        rows.push(el("tr", { class: sku[0] === 0 && sku[1] > 0 ? "warn" : null }, [
          el("th", { scope: "row", text: labels[role] || role }),
          el("td", { text: where }),
          el("td", { text: num(sku[0]) }),
          el("td", { text: num(sku[1]) }),
          el("td", { text: sku.length > 4 ? num(sku[4]) : "–" }),
        ]));
      }
    }
    $("#detail-points").hidden = rows.length === 0;
    $("#detail-points-table tbody").replaceChildren(...rows);
  }

  function tick() {
    if (!last) return;
    const s = last.session || {};
    const deadlines = (last.teams || []).map((x) => x.deadline).filter(Boolean);
    const left = s.status === "running" && deadlines.length ? BG.secondsLeft(Math.min(...deadlines)) : null;
    setText("#d-timer", left === null ? "" : t("seconds_left", { s: left }));
  }

  // force_round names the week it ends: the lowest week a team still plays (the laggards)
  function laggards() {
    const wks = ((last && last.teams) || []).filter((x) => !x.done).map((x) => x.week);
    return { week: wks.length ? Math.min(...wks) : 0 };
  }

  async function control(action, extra) {
    if (action === "end" && !window.confirm(t("confirm_end"))) return;
    if (action === "reveal_end" && !window.confirm(t("confirm_reveal_end"))) return;
    const ack = await socket.request("control", Object.assign({ action }, extra || {}));
    setText("#control-status", ack.ok ? t("done_action") : t("control_failed", { message: BG.errorText(ack) }));
    // a "Done." confirms the click; left standing it would read as news minutes later
    if (ack.ok) setTimeout(() => { if ($("#control-status").textContent === t("done_action")) setText("#control-status", ""); }, 4000);
  }

  function startDashboard() {
    // the join link and the link for another device use the address other devices reach
    // (drawn by the server: PUBLIC_URL, or this machine's network address when opened on localhost)
    const base = $("#d-link").dataset.base || location.origin;
    $("#d-projector").href = "/projector/" + code;
    $("#d-secret-box").addEventListener("toggle", () => setText("#d-secret", $("#d-secret-box").open ? secret() || "" : ""));
    $("#d-debrief").href = "/debrief/" + code;
    $("#d-scenario").addEventListener("click", async (ev) => {
      ev.preventDefault();
      const resp = await fetch(`/api/sessions/${code}/scenario.toml`, { headers: { "X-Facilitator-Secret": secret() || "" } });
      if (!resp.ok) { setText("#control-status", t("control_failed", { message: BG.errorText(await resp.json()) })); return; }
      const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || code + ".toml";
      const a = el("a", { href: URL.createObjectURL(await resp.blob()), download: name });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
    $("#d-other").addEventListener("click", async (ev) => {
      ev.preventDefault();
      const url = base + "/facilitate/" + code + "#s=" + encodeURIComponent(secret() || "");
      try { await navigator.clipboard.writeText(url); setText("#control-status", t("copied")); }
      catch { window.prompt(t("copy_this"), url); }
    });
    $("#secret-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = $("#secret-input").value.trim();
      if (!value) return;
      store.set(FAC_KEY(code), Object.assign(store.get(FAC_KEY(code)) || {}, { code, secret: value }));
      facilitate();
    });
    socket = BG.connect("#conn");
    socket.on("connect", facilitate);
    socket.on("dashboard", (d) => render(d));
    socket.on("dashboard_update", (u) => {
      if (!last) return;
      const rows = new Map((last.teams || []).map((tm) => [tm.team, tm]));
      for (const tm of u.teams || []) rows.set(tm.team, tm);
      const teams = [...rows.values()].sort((a, b) => a.team - b.team);
      render(Object.assign({}, last, { session: u.session, teams }), u.teams || []);
      if (detailTeam !== null && (u.teams || []).some((tm) => tm.team === detailTeam)) inspect(detailTeam);
    });
    $("#detail-close").addEventListener("click", () => { detailTeam = null; $("#team-detail").hidden = true; });
    socket.on("game_over", () => { if (last) { last.session.status = "over"; render(last); } });
    for (const b of $$("[data-action]")) b.addEventListener("click", () => control(b.dataset.action, b.dataset.action === "force_round" ? laggards() : null));
    $("#timer-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const seconds = Number.parseInt($("#timer-seconds").value, 10);
      if (Number.isNaN(seconds) || seconds < 0) return;
      control("set_timer", { seconds });
    });
    setInterval(tick, 1000);
  }

  if (code) {
    startDashboard();
  } else {
    $("#create-form").addEventListener("submit", create);
    loadScenarios();
  }
})();
