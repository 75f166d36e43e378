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
  let confirmFor = null; // a value far from the usual one, shown once before it is sent

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
    seats = r.data; // (a refused join's message stays: the seat list reloads after it)
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
      team.append(el("option", { value: tm.team, text: label }));
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
      role.append(el("option", { value: s.role, text: BG.roleLabel(s.role, s.label) + (taken ? " (" + t("taken") + ")" : ""), "data-taken": taken ? "1" : null }));
    }
    role.value = keep;
    if (role.selectedIndex < 0) role.value = "";
    shareNote();
  }

  /** A taken seat (or a full team) is offered too: the student then plays it with its player. */
  function shareNote() {
    const teams = seats ? seats.teams || [] : [];
    const tm = teams.find((x) => String(x.team) === $("#team").value);
    const opt = $("#role").selectedOptions[0];
    const full = (list) => list.every((x) => (x.seats || []).every((s) => s.taken));
    const sharing = (opt && opt.dataset.taken === "1") || (!$("#role").value && teams.length > 0 && full(tm ? [tm] : teams));
    $("#share-note").hidden = !sharing;
  }

  // ---- join and resume -----------------------------------------------------------------------
  async function join(ev) {
    ev.preventDefault();
    const code = $("#code").value.trim().toUpperCase();
    const name = $("#name").value.trim();
    if (!CODE_RE.test(code)) { setText("#join-error", t("bad_code")); $("#code").focus(); return; }
    if (!name) { setText("#join-error", t("need_name")); $("#name").focus(); return; }
    const payload = { code, name, share: true }; // a free seat first; else one shared with its player
    if ($("#team").value) payload.team = Number($("#team").value);
    if ($("#role").value) payload.role = $("#role").value;
    $("#join-btn").disabled = true;
    const ack = await socket.request("join", payload);
    $("#join-btn").disabled = false;
    if (!ack.ok) {
      const over = ack.error && ack.error.code === "not_running"; // join refuses only a finished game so
      setText("#join-error", over ? t("join_over") : t("join_failed", { message: BG.errorText(ack) }));
      loadSeats(code);
      return;
    }
    seat = { code, name, token: ack.token, team: ack.team, role: ack.role, route: ack.route, shared: !!ack.shared };
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
      confirmFor = null;
    }
    announce(current, st);
    current = st;
    const s = st.session || {};
    const view = st.view || {};
    const v = view.me || view;
    const seatInfo = st.seat || {};
    const seatLabel = BG.roleLabel(seatInfo.role, seatInfo.label);
    setText("#seat-label", seatLabel);
    setText("#seat-team", BG.teamName(seatInfo.team, seatInfo.team_name));
    setText("#seat-code", s.code || (seat && seat.code) || "");
    setText("#seat-name", seatInfo.name || (seat && seat.name) || "");
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
    Chain.draw($("#chain"), Chain.fromState(st)); // the chain as a picture (js/chain.js)
    renderHistory(st.history || view.history || []);
    renderTeam(st);
    renderVisibility(view);
    renderCodp(st);
    renderDeal(st);
    renderIntro(st);
    renderEnd(st);
    if (v.decision === "promise") salesSeat(st);
    tick();
  }

  function salesSeat(st) { // js/sales.js, loaded once
    if (window.SalesSeat) SalesSeat.render(st);
    else if (!$("#sales-js")) document.head.append(el("script", { id: "sales-js", src: $("#sales-card").dataset.script, onload: () => render(current) }));
  }

  /** What changed for the team since the last state, said once: a strategy review opening, the
   * decoupling point moved (and by whom), a bot that decided for this seat when time ran out. */
  function announce(before, st) {
    const s = st.session || {};
    const team = st.team || {};
    const view = st.view || {};
    const was = before && before.team ? before.team : null;
    let text = "";
    if (was && before.view && before.view.codp !== view.codp && view.codp) {
      const who = team.codp_by ? t("codp_by", { name: team.codp_by }) : "";
      text = t("codp_moved", { position: BG.codpTitle(view.codp) }) + (who ? " " + who : "");
    } else if (team.review && s.codp_rule === "team" && !(was && was.review)) {
      text = t("review_open");
    }
    if (text) showNotice(text);
    else if (was && was.review && !team.review) showNotice("");
    // the week moved on: did a bot decide this seat's last week? (its time ran out)
    const hist = st.history || [];
    const prev = hist.find((h) => h.week === (s.week || 0) - 1);
    const note = $("#bot-note");
    if (!before || !before.session || before.session.week !== s.week) { // a new week, or the page (re)opened
      const botNow = !!(st.seat && st.seat.bot);
      note.hidden = !(prev && prev.bot) || botNow;
      if (!note.hidden) note.textContent = t("bot_decided", { week: prev.week, value: num(prev.decision) });
    }
  }

  /** The team's final rank when this page did not see the game end (opened afterwards): from the
   * results, which a player's token opens once the game is over. */
  let rankAsked = false;
  async function askRank(code) {
    if (!seat || !seat.token) return;
    rankAsked = true;
    const r = await api(`/api/sessions/${encodeURIComponent(code)}/results.json?token=${encodeURIComponent(seat.token)}`);
    const ranking = (r.ok && r.data && r.data.ranking) || [];
    const team = (current && current.seat && current.seat.team) || seat.team;
    const row = ranking.find((x) => x.team === team);
    if (!row) return;
    rank = { rank: row.rank, n: ranking.length };
    if (current) { renderTeam(current); renderEnd(current); }
  }

  function showNotice(text) {
    const box = $("#notice");
    box.textContent = text;
    box.hidden = !text;
  }

  /** The end of the game: the team's profit and rank first, and the way to the team's debrief. */
  function renderEnd(st) {
    const s = st.session || {};
    const over = s.status === "over" || !!(st.team && st.team.done);
    const card = $("#end-card");
    const first = over && card.hidden;
    card.hidden = !over;
    $("#intro-open").parentElement.hidden = over; // nothing left to learn about playing
    if (!over) return;
    setText("#end-profit", money((st.team || {}).profit));
    if (!rank && s.status === "over" && !rankAsked) askRank(s.code || seat.code);
    setText("#end-rank", rank ? t("rank", rank) : s.status === "over" ? "–" : t("others_playing"));
    const team = (st.seat && st.seat.team) || (seat && seat.team);
    $("#end-debrief").href = "/debrief/" + (s.code || seat.code) + (team ? "#team-" + team : "");
    for (const id of ["#intro", "#codp-card", "#notice"]) $(id).hidden = true;
    if (first) { window.scrollTo(0, 0); card.focus({ preventScroll: true }); }
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
      ? t(v.mode === "mto" ? "intro_arrives_mto" : "intro_arrives", { supplier: name(mine.supplier), weeks: v.lead_time ?? "?" })
      : t("intro_arrives_source", { weeks: v.lead_time ?? "?" }));
    const mto = v.mode === "mto";
    if (mine.consumer_facing) items.push(t(mto ? "intro_ships_consumers_mto" : "intro_ships_consumers"));
    if (customers.length) items.push(t(mto ? "intro_ships_mto" : "intro_ships", { customers: customers.join(", ") }));
    items.push(decisionIntro(v, mine, name));
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
      const busy = (st.team && st.team.review) || st.session.status === "over" || (st.team && st.team.done);
      if (!store.get(INTRO_KEY(st)) && !busy) showIntro(true);
      store.set(INTRO_KEY(st), true); // shown once: a reload or a language switch does not bring it back
    }
  }
  let introShown = false;

  /** The role's one number, in words that fit what it does: a make-to-order stage with a
   * supplier handles and passes on orders; one without makes the goods; others order. */
  function decisionIntro(v, mine, name) {
    if (v.decision === "capacity") {
      return mine.supplier ? t("intro_number_capacity_pass", { supplier: name(mine.supplier) }) : t("intro_number_capacity");
    }
    return mine.supplier ? t("intro_number_order", { supplier: name(mine.supplier) }) : t("intro_number_source");
  }

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
    const mine = ((st.view && st.view.chain) || []).find((c) => c.role === v.role);
    const source = mine ? mine.supplier === null : false;
    const helpKey = capacity ? (source ? "capacity_help" : "capacity_help_pass") : source ? "order_help_source" : "order_help";
    if (v.decision !== "promise") {
      setText("#decision-label", capacity ? t("capacity") : t("order"));
      setText("#decision-help", t(helpKey, { lo, hi }));
    }
    setText("#h-decided", capacity ? t("col_capacity") : t("col_decided"));
    const input = $("#value");
    // open until the week closes: a decision sent can be changed
    const open = running(st) && !pending && !(st.seat && st.seat.bot) && !(st.team && st.team.done);
    const mineNow = st.decided ? st.decision : undefined;
    if (mineNow !== undefined && mineNow !== null && document.activeElement !== input && input.dataset.shown !== String(mineNow)) {
      input.value = mineNow; // this seat's decision as the server holds it (also one sent from another tab)
      input.dataset.shown = String(mineNow);
    }
    if (!st.decided) input.dataset.shown = "";
    // a make-to-order stage usually keeps its capacity: offer the current one
    if (open && capacity && !st.decided && input.value === "" && document.activeElement !== input) input.value = v.capacity ?? "";
    input.disabled = !open;
    $("#submit").disabled = !open;
    setText("#submit", confirmFor !== null ? t("submit_anyway") : st.decided ? t("change") : t("submit"));
    $("#decide").classList.toggle("done", !!st.decided);
    const byBot = !!(st.seat && st.seat.bot);
    const teamDone = !!(st.team && st.team.done);
    let banner = "";
    if (s.status === "over" || teamDone) banner = t("game_over");
    else if (s.paused || s.status === "paused") banner = t("paused");
    else if (s.status !== "running") banner = t("waiting_start");
    else if (byBot) banner = t("bot_plays");
    const over = banner === t("game_over");
    setText("#banner", over ? "" : banner);
    $("#banner").hidden = !banner || over; // the end card says it
    $("#decide").hidden = over;
    if (st.decided && !over) {
      setText("#decision-status", mineNow === undefined || mineNow === null ? t("submitted_wait") : t("submitted_change", { value: num(mineNow) }));
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
    const now = current && current.session ? current.session.week : null;
    const open = current && !(current.team && current.team.done);
    for (const h of last.slice().reverse().slice(0, 6)) {
      const deciding = open && h.week === now; // the week being decided: nothing typed or paid yet
      // the number the student typed (or a bot decided), and what went upstream after it
      const typed = deciding ? "–" : num(h.decision ?? h.order) + (h.bot ? " (" + t("bot") + ")" : "");
      body.append(el("tr", {}, [
        el("th", { scope: "row", text: h.week }),
        el("td", { text: num(h.incoming_order) }),
        el("td", { text: typed }),
        el("td", { text: deciding ? "–" : num(h.order) }),
        el("td", { text: num(h.inventory) }),
        el("td", { text: num(h.backlog) }),
        el("td", { class: "wide-only", text: deciding ? "–" : money(h.cost) }),
      ]));
    }
  }

  function renderTeam(st) {
    const tm = st.team || {};
    const s = st.session || {};
    const played = (tm.week || s.week || 1) > 1 || !!tm.done; // no money talk before a week is played
    setText("#t-score", played ? money(tm.profit) : "–");
    setText("#t-cost", played ? t("cost_is", { cost: money(tm.cost) }) : t("after_first_week"));
    setText("#t-rank", rank && played ? t("rank", rank) : "–");
    const decided = tm.decided || [];
    const teamSeats = teamSeatList();
    const total = teamSeats.length || decided.length;
    const playing = running(st) && !tm.done && s.status !== "over";
    setText("#t-decided", playing ? t("decided_by", { n: decided.length, total }) : "");
    const chips = $("#t-roles");
    chips.replaceChildren();
    for (const seatOf of teamSeats) {
      const done = playing && decided.includes(seatOf.role);
      const me = st.seat && seatOf.role === st.seat.role;
      const who = me ? t("you") : seatOf.bot ? t("bot") : t("human");
      chips.append(el("li", { class: "chip" + (done ? " done" : "") + (me ? " me" : "") }, [
        playing ? el("span", { "aria-hidden": "true", text: done ? "✓ " : "… " }) : "",
        BG.roleLabel(seatOf.role, seatOf.label) + " (" + who + ")",
        playing ? el("span", { class: "sr-only", text: done ? " " + t("has_decided") : " " + t("not_decided") }) : "",
      ]));
    }
  }

  /** The team's seats: every stage of the chain, with the bot flags of the state's team. */
  function teamSeatList() {
    if (!current || !current.seat) return [];
    const bots = (current.team && current.team.bots) || [];
    const chain = (current.view && current.view.chain) || [];
    const list = chain.slice().reverse().map((c) => ({ role: c.role, label: c.label, bot: bots.includes(c.role) }));
    if (seats?.roles.includes("sales")) list.push({ role: "sales", bot: bots.includes("sales") });
    return list;
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
      if (last.every((d) => typeof d.accepted === "number")) {
        // the sell-through: who bought or waited; the rest walked away
        extra.append(el("p", { id: "accepted-recent" }, [t("accepted_recent") + ": ", el("strong", { text: last.map((d) => num(d.accepted)).join(" · ") })]));
      }
      // the latest week per stock point (region, variant, channel) where the total has parts
      const parts = Object.entries(last[last.length - 1].breakdown || {});
      if (parts.length > 1) {
        const names = Object.fromEntries((v.chain || []).map((c) => [c.role, BG.roleLabel(c.role, c.label)]));
        const part = ([k, n]) => (k.includes("/") ? k.split("/").slice(1).join(" ") : names[k] || k) + " " + num(n);
        extra.append(el("p", {}, [t("demand_breakdown") + ": ", el("strong", { text: parts.map(part).join(" · ") })]));
      }
    }
    const adv = v.advance_orders;
    if (adv && Array.isArray(adv.orders) && adv.orders.length) {
      // co-makership: the partners' orders of the coming weeks, known now
      const span = { first: adv.from_week, last: adv.from_week + adv.orders.length - 1 };
      const share = t("advance_share", { share: Math.round(100 * adv.share) + "%" });
      extra.append(el("p", { id: "advance-orders" }, [t("advance_orders", span) + ": ",
        el("strong", { text: adv.orders.map(num).join(" · ") }), " (" + share + ")"]));
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
  async function renderCodp(st) {
    const s = st.session || {};
    const card = $("#codp-card");
    const team = st.team || {};
    const positions = team.positions || [];
    const open = s.codp_rule === "team" && positions.length > 0 && !team.done && s.status !== "over";
    card.hidden = !open;
    if (!open) return;
    $("#review-note").hidden = s.status === "setup";
    const shop = $("#shop-options");
    shop.hidden = !team.shop;
    for (const r of shop.querySelectorAll("input")) if (!card.contains(document.activeElement)) r.checked = r.value === team.shop;
    const now = team.choice || (st.view || {}).codp; // a position, or the team's processes per segment
    const chain = (st.view || {}).chain || [];
    const chosen = t("codp_current", { position: BG.codpTitle(now) }) + (team.codp_by ? " " + t("codp_by", { name: team.codp_by }) : "");
    setText("#codp-now", chosen);
    const box = $("#codp-options");
    const text = JSON.stringify([positions, chain.map((c) => c.label)]);
    if (box.dataset.text !== text) {
      box.dataset.text = text;
      box.replaceChildren(...positions.map((p) => codpOption(p, chain)));
    }
    for (const r of box.querySelectorAll("input")) if (!card.contains(document.activeElement)) r.checked = r.value === now;
  }

  /** One position as an option: which stages work to order, where stock is held, the lead time
   * customers would be quoted now, and what each customer segment would do. */
  function codpOption(p, chain) {
    const label = (role) => { const c = chain.find((x) => x.role === role); return BG.roleLabel(role, c ? c.label : role); };
    const facts = BG.codpFacts(p, label);
    const id = "codp-" + p.position;
    return el("label", { class: "check codp-option", for: id }, [
      // named by its title, described by its facts (the whole box selects it)
      el("input", { type: "radio", name: "codp", value: p.position, id, "aria-labelledby": id + "-title", "aria-describedby": id + "-facts" }),
      el("span", {}, [
        el("strong", { id: id + "-title", text: BG.codpTitle(p.position) }),
        el("span", { class: "codp-facts small", id: id + "-facts" }, facts.map((f) => el("span", { class: "fact", text: f }))),
      ]),
    ]);
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

  // ---- co-makership: offering the deal (before the start, at reviews) -------------------------
  function renderDeal(st) {
    const deal = (st.team || {}).deal;
    const s = st.session || {};
    const card = $("#deal-card");
    card.hidden = !deal || !deal.open || s.status === "over";
    if (card.hidden) return;
    const pct = (x) => Math.round(100 * x) + "%";
    $("#deal-terms").replaceChildren(...deal.terms.map((d) => el("li", { text: t("deal_terms", {
      segment: BG.nameOf(d.segment), share: pct(d.share), horizon: d.horizon, lead_time: d.lead_time, discount: pct(d.discount),
    }) })));
    setText("#deal-now", (deal.on ? t("deal_on") : t("deal_off")) + (deal.by ? " " + t("codp_by", { name: deal.by }) : ""));
    for (const r of card.querySelectorAll("input")) if (!card.contains(document.activeElement)) r.checked = r.value === (deal.on ? "1" : "0");
  }

  async function chooseDeal(ev) {
    ev.preventDefault();
    const picked = $("#deal-card input:checked");
    if (!picked) return;
    const ack = await socket.request("choose_deal", { deal: picked.value === "1" });
    setText("#deal-status", ack.ok ? t("done_action") : BG.errorText(ack));
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
    const usual = usualValue(v, current.history || []);
    if (confirmFor !== value && farFrom(value, usual, v.decision === "capacity")) {
      confirmFor = value; // asked once: Submit again sends it
      setText("#decision-error", t("unusual", { value: num(value), usual: num(usual) }));
      renderDecision(current);
      $("#value").focus();
      return;
    }
    confirmFor = null;
    setText("#decision-error", "");
    pending = true;
    renderDecision(current);
    const week = (current.session || {}).week;
    const ack = await socket.request("submit", { week, value });
    pending = false;
    if (ack.ok) {
      if (current.session.week === week) mine({ week, value: ack.value ?? value });
    } else {
      setText("#decision-error", BG.errorText(ack));
    }
    renderDecision(current);
  }

  /** The seat's decision for a week, as the server took it (from this tab or another). */
  function mine(d) {
    if (!current || !current.session || current.session.week !== d.week) return;
    current.decided = true;
    current.decision = d.value;
    if (document.activeElement !== $("#value")) $("#value").dataset.shown = "";
  }

  /** The usual size of this role's number: its recent decisions and incoming orders (or its
   * capacity), with the steady rate the game starts from. */
  function usualValue(v, history) {
    const recent = history.filter((h) => h.decision !== undefined && h.decision !== null).slice(-4);
    const seen = v.decision === "capacity"
      ? [v.capacity, ...recent.map((h) => h.decision)]
      : [...recent.map((h) => h.decision), ...history.slice(-4).map((h) => h.incoming_order)];
    const xs = [v.initial_rate, ...seen].filter((x) => typeof x === "number").sort((a, b) => a - b);
    return xs.length ? xs[Math.floor(xs.length / 2)] : 0;
  }

  /** Far outside the usual range: more than three times it (and 20 more), or a capacity cut
   * below a third of it. */
  function farFrom(value, usual, capacity) {
    if (value > Math.max(3 * usual, usual + 20)) return true;
    return capacity && usual >= 6 && value < usual / 3;
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
    socket.on("state", (st) => render(st));
    socket.on("decision", (d) => { mine(d); if (current) renderDecision(current); });
    socket.on("decided", (d) => {
      // a teammate (or this seat) decided: only the team's list changes
      if (!current || !current.team || current.team.week !== d.week) return;
      current.team.decided = d.decided;
      if (current.seat && d.decided.includes(current.seat.role)) current.decided = true;
      renderTeam(current);
      renderDecision(current);
    });
    socket.on("standings", (sd) => {
      const ours = seat ? (sd.ranks || [])[seat.team - 1] : 0;
      rank = ours ? { rank: ours, n: sd.teams } : null;
      if (current) { renderTeam(current); renderEnd(current); }
    });
    socket.on("dashboard", () => {});
    socket.on("game_over", (g) => {
      const row = seat ? (g.ranking || []).find((r) => r.team === seat.team) : null;
      if (row) rank = { rank: row.rank, n: (g.ranking || []).length };
      if (current) { current.session.status = "over"; render(current); }
    });
    $("#join-form").addEventListener("submit", join);
    $("#decide").addEventListener("submit", submit);
    $("#intro-close").addEventListener("click", () => { showIntro(false); $("#intro-open").focus(); });
    $("#intro-open").addEventListener("click", () => showIntro($("#intro").hidden));
    $("#codp-card").addEventListener("submit", chooseCodp);
    $("#deal-card").addEventListener("submit", chooseDeal);
    $("#code").addEventListener("change", () => { setText("#join-error", ""); loadSeats($("#code").value.trim()); });
    $("#team").addEventListener("change", fillRoles);
    $("#role").addEventListener("change", shareNote);
    $("#rejoin-btn").addEventListener("click", () => {
      const last = store.get(LAST_KEY);
      location.href = "/join/" + last;
    });
    setInterval(tick, 1000);
  }
  start();
})();
