/* The player screen: join or resume a seat, show the role's week, submit the one decision. */
"use strict";
(() => {
  const { t, $, el, num, money, setText, store, api } = BG;
  const SEAT_KEY = (code) => "beergame.seat." + code;
  const LAST_KEY = "beergame.last";
  const CODE_RE = /^[A-Za-z0-9]{3,12}$/;

  let socket = null;
  let seat = null; // {code, token, name, team, role}
  let current = null; // last state payload
  let pending = false;
  let seats = null; // public session info (seat labels, bots)
  let rank = null;

  const joinBox = $("#join");
  const gameBox = $("#game");

  function showJoin(message, offerRejoin) {
    gameBox.hidden = true;
    joinBox.hidden = false;
    setText("#join-error", message || "");
    const last = store.get(LAST_KEY);
    const entry = last ? store.get(SEAT_KEY(last)) : null;
    if (entry && entry.token && (!message || offerRejoin)) {
      $("#rejoin").hidden = false;
      setText("#rejoin-text", t("rejoin", { code: entry.code, name: entry.name }));
    } else {
      $("#rejoin").hidden = true;
    }
  }

  function showGame() {
    joinBox.hidden = true;
    gameBox.hidden = false;
  }

  // ---- seats on offer -------------------------------------------------------------------------
  async function loadSeats(code) {
    if (!CODE_RE.test(code)) return;
    const r = await api("/api/sessions/" + encodeURIComponent(code.toUpperCase()));
    if (!r.ok) {
      if (r.status === 404) setText("#join-error", t("unknown_session"));
      return;
    }
    setText("#join-error", "");
    seats = r.data;
    BG.useTexts(seats.texts);
    fillTeams();
    if (current) renderTeam(current);
  }

  function fillTeams() {
    const team = $("#team");
    const keep = team.value;
    team.replaceChildren(el("option", { value: "", text: t("any_team") }));
    for (const tm of seats.teams || []) {
      const free = (tm.seats || []).filter((s) => !s.taken).length;
      const label = BG.teamName(tm.team, tm.name) + (free ? "" : " (" + t("full") + ")");
      team.append(el("option", { value: tm.team, text: label, disabled: !free }));
    }
    team.value = keep;
    fillRoles();
  }

  function fillRoles() {
    const role = $("#role");
    const keep = role.value;
    role.replaceChildren(el("option", { value: "", text: t("any_role") }));
    const teams = seats ? seats.teams || [] : [];
    const tm = teams.find((x) => String(x.team) === $("#team").value);
    const list = tm ? tm.seats : teams.length ? teams[0].seats : [];
    for (const s of list || []) {
      const taken = tm ? s.taken : false;
      role.append(el("option", { value: s.role, text: BG.roleLabel(s.role, s.label) + (taken ? " (" + t("taken") + ")" : ""), disabled: taken }));
    }
    role.value = keep;
    if (role.selectedIndex < 0) role.value = "";
  }

  // ---- join and resume -----------------------------------------------------------------------
  async function join(ev) {
    ev.preventDefault();
    const code = $("#code").value.trim().toUpperCase();
    const name = $("#name").value.trim();
    if (!CODE_RE.test(code)) { setText("#join-error", t("bad_code")); $("#code").focus(); return; }
    if (!name) { setText("#join-error", t("need_name")); $("#name").focus(); return; }
    const payload = { code, name };
    if ($("#team").value) payload.team = Number($("#team").value);
    if ($("#role").value) payload.role = $("#role").value;
    $("#join-btn").disabled = true;
    const ack = await socket.request("join", payload);
    $("#join-btn").disabled = false;
    if (!ack.ok) {
      setText("#join-error", t("join_failed", { message: BG.errorText(ack) }));
      loadSeats(code);
      return;
    }
    seat = { code, name, token: ack.token, team: ack.team, role: ack.role, route: ack.route };
    store.set(SEAT_KEY(code), seat);
    store.set(LAST_KEY, code);
    history.replaceState(null, "", "/join/" + code);
    renderHandoff();
    showGame();
    loadSeats(code);
    BG.reroute(socket, ack.route); // several processes: on to the one with the teammates
  }

  async function resume() {
    if (!seat || !seat.token) return false;
    const ack = await socket.request("resume", { token: seat.token });
    if (ack.ok) {
      seat.team = ack.team;
      seat.role = ack.role;
      seat.route = ack.route;
      store.set(SEAT_KEY(seat.code), seat);
      BG.reroute(socket, ack.route); // several processes: on to the teammates' one (it resumes there)
      renderHandoff();
      showGame();
      if (!seats) loadSeats(seat.code);
      return true;
    }
    const code = ack.error && ack.error.code;
    if (code === "bad_token" || code === "unknown_session") {
      store.del(SEAT_KEY(seat.code));
      seat = null;
      showJoin(BG.errorText(ack));
    } else if (!current) {
      // keep the token: the next connection tries again, and "Continue" retries by hand
      showJoin(BG.errorText(ack), true);
    }
    return false;
  }

  // ---- rendering ----------------------------------------------------------------------------
  function render(st) {
    const before = current && current.session ? current.session.week : null;
    if (st.session && st.session.week !== before) {
      $("#value").value = "";
      setText("#decision-error", "");
    }
    current = st;
    const s = st.session || {};
    const view = st.view || {};
    const v = view.me || view;
    const seatInfo = st.seat || {};
    const seatLabel = BG.roleLabel(seatInfo.role, seatInfo.label);
    setText("#seat-label", seatLabel);
    setText("#seat-team", BG.teamName(seatInfo.team, seatInfo.team_name));
    setText("#seat-code", s.code || (seat && seat.code) || "");
    setText("#seat-name", (seat && seat.name) || "");
    setText("#week", BG.weekText(s.week, s.weeks));
    document.title = seatLabel + " · " + BG.weekText(s.week, s.weeks);

    for (const k of ["on_hand", "backlog", "incoming_order", "received", "shipped", "supply_line", "wip", "capacity", "lead_time"]) {
      setText("#v-" + k, num(v[k]));
    }
    $("#tile-backlog").classList.toggle("on", (v.backlog || 0) > 0);
    const mto = v.mode === "mto";
    for (const n of document.querySelectorAll(".mto-only")) n.hidden = !mto;
    // a consumer-facing stage also sees its market: what it sold and whom it lost this week
    const hist = st.history || view.history || [];
    const now = hist.length ? hist[hist.length - 1] : {};
    const facing = now.demand !== undefined && now.demand !== null;
    for (const n of document.querySelectorAll(".facing-only")) n.hidden = !facing;
    if (facing) {
      setText("#v-sold", num(now.sold ?? now.shipped));
      setText("#v-lost", num(now.lost || 0));
      $("#tile-lost").classList.toggle("on", (now.lost || 0) > 0);
    }
    renderRates(v.rates || {}, mto);
    renderStockPoints(now.skus, facing);
    pipeline("#on-the-way", v.on_the_way);
    pipeline("#in-mail", v.orders_in_mail);
    renderDecision(st);
    renderHistory(st.history || view.history || []);
    renderTeam(st);
    renderVisibility(view);
    renderCodp(st);
    renderIntro(st);
    tick();
  }

  /** Per variant and region: stock, backlog and lost customers at each of the role's stock points. */
  function renderStockPoints(skus, facing) {
    const names = Object.keys(skus || {});
    const box = $("#stock-points");
    box.hidden = names.length < 2;
    if (box.hidden) return;
    const rows = names.map((name) => {
      const [inventory, backlog, , , lost] = skus[name];
      const label = BG.stockPoint(name, name);
      const cells = [el("th", { scope: "row", text: label }), el("td", { text: num(inventory) }), el("td", { text: num(backlog) })];
      if (facing) cells.push(el("td", { text: num(lost || 0) }));
      return el("tr", { class: inventory === 0 && backlog > 0 ? "warn" : null }, cells);
    });
    $("#stock-points-body").replaceChildren(...rows);
  }

  function pipeline(sel, boxes) {
    const list = $(sel);
    list.replaceChildren();
    if (!boxes || !boxes.length) {
      list.append(el("li", { class: "empty", text: t("nothing_on_way") }));
      return;
    }
    boxes.forEach((q, i) => {
      list.append(el("li", {}, [el("span", { class: "q", text: num(q) }), el("span", { class: "when", text: t("arrives_in", { n: i + 1 }) })]));
    });
  }

  function running(st) {
    const s = st.session || {};
    return s.status === "running" && !s.paused;
  }

  /** What this role pays each week, per unit: the numbers behind the cost. */
  function rateParts(r, mto) {
    const fmt = new Intl.NumberFormat(document.documentElement.lang || undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const m = (x) => fmt.format(x || 0);
    const parts = [t("rate_holding", { x: m(r.holding) }), t("rate_backlog", { x: m(r.backlog) })];
    if (mto && r.capacity) parts.push(t("rate_capacity", { x: m(r.capacity) }));
    if (mto && r.capacity_change) parts.push(t("rate_capacity_change", { x: m(r.capacity_change) }));
    if (r.fulfilment) parts.push(t("rate_fulfilment", { x: m(r.fulfilment) }));
    return parts;
  }

  function renderRates(r, mto) {
    setText("#rates", t("your_costs") + " " + rateParts(r, mto).join(" · "));
  }

  // ---- the first minute: what this role is about ----------------------------------------------
  const INTRO_KEY = (st) => `beergame.intro.${st.session.code}.${st.seat.role}`;

  /** A short explanation for the role: what arrives, what it ships, its one number, what costs money. */
  function renderIntro(st) {
    const view = st.view || {};
    const v = view.me || {};
    const chain = view.chain || [];
    const mine = chain.find((c) => c.role === v.role) || {};
    const name = (role) => { const c = chain.find((x) => x.role === role); return BG.roleLabel(role, c ? c.label : role); };
    const customers = chain.filter((c) => c.supplier === v.role).map((c) => name(c.role));
    const capacity = v.decision === "capacity";
    const items = [];
    items.push(mine.supplier
      ? t("intro_arrives", { supplier: name(mine.supplier), weeks: v.lead_time ?? "?" })
      : t("intro_arrives_source", { weeks: v.lead_time ?? "?" }));
    if (mine.consumer_facing) items.push(t("intro_ships_consumers"));
    if (customers.length) items.push(t("intro_ships", { customers: customers.join(", ") }));
    items.push(capacity ? t("intro_number_capacity")
      : mine.supplier ? t("intro_number_order", { supplier: name(mine.supplier) }) : t("intro_number_source"));
    items.push(t("intro_costs", { rates: rateParts(v.rates || {}, v.mode === "mto").join("; ") }));
    setText("#h-intro", t("intro_title", { role: BG.roleLabel(v.role, mine.label) }));
    const list = $("#intro-list");
    const text = items.join("\n");
    if (list.dataset.text !== text) {
      list.dataset.text = text;
      list.replaceChildren(...items.map((x) => el("li", { text: x })));
    }
    if (!introShown && st.session && st.seat) {
      introShown = true;
      if (!store.get(INTRO_KEY(st))) showIntro(true);
    }
  }
  let introShown = false;

  function showIntro(open) {
    $("#intro").hidden = !open;
    $("#intro-open").setAttribute("aria-expanded", String(open));
    if (open) $("#intro").focus();
    else if (current && current.session && current.seat) store.set(INTRO_KEY(current), true);
  }

  function renderDecision(st) {
    const v = (st.view && st.view.me) || st.view || {};
    const s = st.session || {};
    const [lo, hi] = v.bounds || [0, 0];
    const capacity = v.decision === "capacity";
    setText("#decision-label", capacity ? t("capacity") : t("order"));
    const mine = ((st.view && st.view.chain) || []).find((c) => c.role === v.role);
    const source = mine ? mine.supplier === null : false;
    const helpKey = capacity ? "capacity_help" : source ? "order_help_source" : "order_help";
    setText("#decision-help", t(helpKey, { lo, hi }));
    const input = $("#value");
    const open = running(st) && !st.decided && !pending && !(st.seat && st.seat.bot) && !(st.team && st.team.done);
    // a make-to-order stage usually keeps its capacity: offer the current one
    if (open && capacity && input.value === "" && document.activeElement !== input) input.value = v.capacity ?? "";
    input.disabled = !open;
    $("#submit").disabled = !open;
    $("#decide").classList.toggle("done", !!st.decided);
    const byBot = !!(st.seat && st.seat.bot);
    const teamDone = !!(st.team && st.team.done);
    let banner = "";
    if (s.status === "over" || teamDone) banner = t("game_over");
    else if (s.paused || s.status === "paused") banner = t("paused");
    else if (s.status !== "running") banner = t("waiting_start");
    else if (byBot) banner = t("bot_plays");
    setText("#banner", banner);
    $("#banner").hidden = !banner;
    const over = banner === t("game_over");
    $("#debrief-link").hidden = !over;
    $("#debrief-link a").href = "/debrief/" + (s.code || seat.code);
    $("#decide").hidden = over;
    if (st.decided) {
      const sent = st.submitted;
      setText("#decision-status", sent === undefined ? t("submitted_wait") : t("submitted", { value: sent }));
    } else {
      setText("#decision-status", "");
    }
  }

  function renderHistory(history) {
    const last = history.slice(-12);
    const weeks = last.map((h) => h.week);
    const series = [
      { label: t("incoming"), values: last.map((h) => h.incoming_order), color: "#0b5cad" },
      { label: t("orders"), values: last.map((h) => h.order), color: "#b3261e", dash: "6 4" },
      { label: t("inventory"), values: last.map((h) => h.inventory), color: "#1b6e3a" },
      { label: t("backlog"), values: last.map((h) => h.backlog), color: "#7a4a00", dash: "2 3" },
    ];
    const summary = series.map((s) => s.label + " " + num(s.values[s.values.length - 1])).join(", ");
    Spark.draw($("#history-chart"), weeks, series, t("history_chart") + ": " + summary);
    const body = $("#history-table tbody");
    body.replaceChildren();
    for (const h of last.slice().reverse().slice(0, 6)) {
      body.append(el("tr", {}, [
        el("th", { scope: "row", text: h.week }),
        el("td", { text: num(h.incoming_order) }),
        el("td", { text: num(h.order) }),
        el("td", { text: num(h.inventory) }),
        el("td", { text: num(h.backlog) }),
        el("td", { class: "wide-only", text: money(h.cost) }),
      ]));
    }
  }

  function renderTeam(st) {
    const tm = st.team || {};
    setText("#t-score", money(tm.profit));
    setText("#t-cost", t("cost_is", { cost: money(tm.cost) }));
    setText("#t-rank", rank ? t("rank", rank) : "–");
    const decided = tm.decided || [];
    const teamSeats = teamSeatList();
    const total = teamSeats.length || decided.length;
    setText("#t-decided", running(st) ? t("decided_by", { n: decided.length, total }) : "");
    const chips = $("#t-roles");
    chips.replaceChildren();
    for (const s of teamSeats) {
      const done = decided.includes(s.role);
      const me = st.seat && s.role === st.seat.role;
      const who = me ? t("you") : s.bot ? t("bot") : t("human");
      chips.append(el("li", { class: "chip" + (done ? " done" : "") + (me ? " me" : "") }, [
        el("span", { "aria-hidden": "true", text: done ? "✓ " : "… " }),
        BG.roleLabel(s.role, s.label) + " (" + who + ")",
        el("span", { class: "sr-only", text: done ? " " + t("has_decided") : " " + t("not_decided") }),
      ]));
    }
  }

  /** The team's seats: every stage of the chain, with the bot flags of the state's team. */
  function teamSeatList() {
    if (!current || !current.seat) return [];
    const bots = (current.team && current.team.bots) || [];
    const chain = (current.view && current.view.chain) || [];
    return chain.slice().reverse().map((c) => ({ role: c.role, label: c.label, bot: bots.includes(c.role) }));
  }

  function renderVisibility(v) {
    const vis = v.visibility || {};
    const list = $("#visibility");
    list.replaceChildren(el("li", { class: "yes", text: t("visible_own") }));
    const extra = $("#visible-extra");
    extra.replaceChildren();
    const items = [
      ["pos_demand", t("visible_demand")],
      ["inventories", t("visible_inventories")],
      ["pipelines", t("visible_pipelines")],
    ];
    for (const [key, label] of items) {
      const on = !!vis[key];
      list.append(el("li", { class: on ? "yes" : "no" }, [label + ": ", el("strong", { text: on ? t("shown") : t("hidden") })]));
    }
    if (Array.isArray(v.pos_demand) && v.pos_demand.length) {
      const last = v.pos_demand.slice(-6);
      extra.append(el("p", {}, [t("demand_recent") + ": ", el("strong", { text: last.map((d) => num(d.demand)).join(" · ") })]));
    }
    const roles = new Set([...Object.keys(v.inventories || {}), ...Object.keys(v.pipelines || {})]);
    if (roles.size) {
      const labels = Object.fromEntries((v.chain || []).map((c) => [c.role, BG.roleLabel(c.role, c.label)]));
      const inv = v.inventories || {};
      const pipe = v.pipelines || {};
      const head = [t("stage")];
      if (v.inventories) head.push(t("inventory"), t("backlog"));
      if (v.pipelines) head.push(t("on_the_way"));
      const rows = (v.chain || []).filter((c) => roles.has(c.role)).map((c) => {
        const cells = [el("th", { scope: "row", text: labels[c.role] || c.role })];
        if (v.inventories) cells.push(el("td", { text: num(inv[c.role].on_hand) }), el("td", { text: num(inv[c.role].backlog) }));
        if (v.pipelines) cells.push(el("td", { text: (pipe[c.role].on_the_way || []).map(num).join(" · ") || "–" }));
        return el("tr", {}, cells);
      });
      extra.append(el("div", { class: "table-wrap" }, [el("table", { class: "compact" }, [
        el("caption", { class: "sr-only", text: t("visible_inventories") }),
        el("thead", {}, [el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))]),
        el("tbody", {}, rows),
      ])]));
    }
  }

  // ---- choosing the decoupling point and the web shop mode (before the start, at reviews) -----
  let positions = null;
  async function renderCodp(st) {
    const s = st.session || {};
    const card = $("#codp-card");
    const team = st.team || {};
    const open = s.codp_rule === "team" && (s.status === "setup" || team.review === true);
    card.hidden = !open;
    if (!open) return;
    $("#review-note").hidden = s.status === "setup";
    const shop = $("#shop-options");
    shop.hidden = !team.shop;
    for (const r of shop.querySelectorAll("input")) if (!card.contains(document.activeElement)) r.checked = r.value === team.shop;
    if (positions === null) {
      const r = await api("/api/scenarios");
      const scn = r.ok ? (r.data || []).find((x) => x.name === s.scenario) : null;
      positions = scn ? scn.codp_positions || [] : [];
    }
    const box = $("#codp-options");
    const now = (st.view || {}).codp;
    if (box.childElementCount !== positions.length) {
      box.replaceChildren(...positions.map((p) => el("label", { class: "check" }, [
        el("input", { type: "radio", name: "codp", value: p }), BG.codpTitle(p),
      ])));
    }
    for (const r of box.querySelectorAll("input")) if (document.activeElement !== r && !card.contains(document.activeElement)) r.checked = r.value === now;
  }

  async function chooseCodp(ev) {
    ev.preventDefault();
    const picked = $("#codp-options input:checked");
    const shop = $("#shop-options").hidden ? null : $("#shop-options input:checked");
    const team = (current && current.team) || {};
    let ack = { ok: true };
    if (picked && picked.value !== ((current && current.view) || {}).codp) {
      ack = await socket.request("choose_codp", { position: picked.value });
    }
    if (ack.ok && shop && shop.value !== team.shop) ack = await socket.request("choose_shop", { mode: shop.value });
    setText("#codp-status", ack.ok ? t("done_action") : BG.errorText(ack));
  }

  // ---- timer ----------------------------------------------------------------------------------
  function tick() {
    const timer = $("#timer");
    if (!current) return;
    const s = current.session || {};
    const left = running(current) ? BG.secondsLeft(s.deadline) : null;
    timer.textContent = left === null ? "" : t("seconds_left", { s: left });
    timer.classList.toggle("urgent", left !== null && left <= 10);
  }

  // ---- submit ---------------------------------------------------------------------------------
  async function submit(ev) {
    ev.preventDefault();
    if (!current || pending) return;
    const v = (current.view && current.view.me) || current.view || {};
    const [lo, hi] = v.bounds || [0, 0];
    const raw = $("#value").value.trim();
    const value = Number(raw);
    if (!/^[0-9]+$/.test(raw) || value < lo || value > hi) {
      setText("#decision-error", t("bad_number", { lo, hi }));
      $("#value").focus();
      return;
    }
    setText("#decision-error", "");
    pending = true;
    renderDecision(current);
    const week = (current.session || {}).week;
    const ack = await socket.request("submit", { week, value });
    pending = false;
    if (ack.ok || (ack.error && ack.error.code === "already_decided")) {
      if (current.session.week === week) {
        current.decided = true;
        current.submitted = value;
        $("#value").value = "";
      }
    } else {
      setText("#decision-error", BG.errorText(ack));
    }
    renderDecision(current);
  }

  // ---- wiring ---------------------------------------------------------------------------------
  /** A seat handed over from another device: /join/CODE#t=TOKEN (the token never reaches the server in a URL). */
  function takeHandoff(code) {
    const token = new URLSearchParams(location.hash.slice(1)).get("t");
    if (!code || !token) return;
    store.set(SEAT_KEY(code), { code, token, name: "" });
    store.set(LAST_KEY, code);
    history.replaceState(null, "", "/join/" + code);
  }

  function renderHandoff() {
    if (!seat || !seat.token) return;
    const link = `${location.origin}/join/${encodeURIComponent(seat.code)}#t=${encodeURIComponent(seat.token)}`;
    const a = $("#handoff-link");
    a.href = link;
    a.textContent = link;
  }

  function start() {
    const code = joinBox.dataset.code;
    takeHandoff(code);
    if (code) {
      seat = store.get(SEAT_KEY(code));
      if (seat && seat.token) joinBox.hidden = true;
      else { seat = null; showJoin(); loadSeats(code); }
    } else {
      showJoin();
    }
    socket = BG.connect("#conn", seat && seat.route);
    socket.on("connect", () => { if (seat) resume(); });
    socket.on("state", (st) => {
      const week = current && current.session ? current.session.week : null;
      const keepSubmitted = current && current.session && st.session && st.session.week === week ? current.submitted : undefined;
      if (st.decided && keepSubmitted !== undefined) st.submitted = keepSubmitted;
      render(st);
    });
    socket.on("decided", (d) => {
      // a teammate (or this seat) decided: only the team's list changes
      if (!current || !current.team || current.team.week !== d.week) return;
      current.team.decided = d.decided;
      if (current.seat && d.decided.includes(current.seat.role)) current.decided = true;
      renderTeam(current);
      renderDecision(current);
    });
    socket.on("standings", (sd) => {
      const mine = seat ? (sd.ranks || [])[seat.team - 1] : 0;
      rank = mine ? { rank: mine, n: sd.teams } : null;
      if (current) renderTeam(current);
    });
    socket.on("dashboard", () => {});
    socket.on("game_over", () => {
      if (current) { current.session.status = "over"; render(current); }
    });
    $("#join-form").addEventListener("submit", join);
    $("#decide").addEventListener("submit", submit);
    $("#intro-close").addEventListener("click", () => { showIntro(false); $("#intro-open").focus(); });
    $("#intro-open").addEventListener("click", () => showIntro($("#intro").hidden));
    $("#codp-card").addEventListener("submit", chooseCodp);
    $("#code").addEventListener("change", () => loadSeats($("#code").value.trim()));
    $("#team").addEventListener("change", fillRoles);
    $("#rejoin-btn").addEventListener("click", () => {
      const last = store.get(LAST_KEY);
      location.href = "/join/" + last;
    });
    setInterval(tick, 1000);
  }
  start();
})();
