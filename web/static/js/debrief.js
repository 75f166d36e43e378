/* Debrief: the class ranking and, per team, the bullwhip, stock and backlog, costs and comparisons. */
"use strict";
(() => {
  const { t, $, el, num, money, setText, store } = BG;
  const code = $("#debrief").dataset.code;
  const COLORS = ["#0b5cad", "#b3261e", "#1b6e3a", "#7a4a00", "#6a3d9a", "#00767a", "#a6336a", "#4a5568"];
  const COST_PARTS = [
    ["holding_cost", "holding", "#0b5cad"],
    ["backlog_cost", "backlog_cost", "#b3261e"],
    ["goodwill", "lost_sales", "#a6336a"],
    ["lost_margin", "lost_margin_part", "#d98cb3"],
    ["capacity_cost", "capacity_cost", "#7a4a00"],
    ["fulfilment_cost", "fulfilment", "#00767a"],
    ["other", "other_cost", "#4a5568"],
  ];
  let data = null;
  const charts = {};

  // ---- access ---------------------------------------------------------------------------------
  /** The facilitator's "link for another device" (#s=SECRET) works here too: keep the secret, drop it from the address. */
  function takeSecretFromLink() {
    const m = /(?:^#|&)s=([^&]+)/.exec(location.hash);
    if (!m) return;
    store.set("beergame.fac." + code, Object.assign(store.get("beergame.fac." + code) || {}, { code, secret: decodeURIComponent(m[1]) }));
    history.replaceState(null, "", location.pathname);
  }

  function credentials(of = code) {
    const fac = store.get("beergame.fac." + of);
    if (fac && fac.secret) return { headers: { "X-Facilitator-Secret": fac.secret }, query: "" };
    const seat = store.get("beergame.seat." + of);
    if (seat && seat.token) return { headers: {}, query: "?token=" + encodeURIComponent(seat.token) };
    return null;
  }

  async function fetchResults(kind, of = code) {
    const cred = credentials(of);
    if (!cred) return { ok: false, status: 403 };
    const resp = await fetch(`/api/sessions/${encodeURIComponent(of)}/results.${kind}${cred.query}`, { headers: cred.headers });
    return { ok: resp.ok, status: resp.status, resp };
  }

  async function load() {
    const r = await fetchResults("json");
    if (!r.ok) {
      let message = t("no_results");
      if (r.resp) { try { message = BG.errorText(await r.resp.json()); } catch { /* keep */ } }
      const player = !store.get("beergame.fac." + code) && store.get("beergame.seat." + code);
      if (r.status === 403 && player) message = t("results_after_game");
      else if (r.status === 403 && !credentials()) message = t("results_how_to_open");
      setText("#db-error", message);
      $("#db-secret").hidden = r.status !== 403 || !!store.get("beergame.seat." + code);
      return;
    }
    data = await r.resp.json();
    setText("#db-error", "");
    $("#db-secret").hidden = true;
    $("#downloads").hidden = false;
    $("#explain").hidden = false;
    setText("#db-title", [BG.scenarioTitle(data.title), data.status ? t("status_" + data.status) : ""].filter(Boolean).join(" · "));
    setText("#scenario-debrief", playedText() || scn.debrief || "");
    $("#db-pair").hidden = false;
    const other = new URLSearchParams(location.search).get("with");
    if (other) await loadPair(other);
    tabs();
    const mine = store.get("beergame.seat." + code);
    const start = location.hash.slice(1) || (mine && !store.get("beergame.fac." + code) ? "team-" + mine.team : "class");
    show(pair || start !== "pair" ? start : "class");
  }

  // ---- two sessions side by side (the information-sharing lesson) ----------------------------
  let pair = null;
  async function loadPair(other) {
    other = other.trim().toUpperCase();
    $("#pair-input").value = other;
    const r = other && other !== code ? await fetchResults("json", other) : { ok: false };
    if (!r.ok) {
      let message = t("no_results");
      if (r.resp) { try { message = BG.errorText(await r.resp.json()); } catch { /* keep */ } }
      setText("#db-error", other + ": " + message);
      pair = null;
      return;
    }
    pair = await r.resp.json();
    setText("#db-error", "");
  }

  const sharingText = (res) => {
    const v = $("#pair-view").dataset;
    return res.code + " · " + ((res.visibility || {}).pos_demand ? v.shared : v.unshared);
  };

  function ordersChart(canvas, tm, title) {
    const ws = weeks(tm);
    const rs = roles().map((r) => r.role).slice().reverse();
    canvas.setAttribute("aria-label", title);
    return new Chart(canvas, {
      plugins: [whiteBackground],
      type: "line",
      data: {
        labels: ws.map((w) => w.week),
        datasets: [
          { label: t("demand"), data: ws.map((w) => w.demand), borderColor: "#1a2433", backgroundColor: "#1a2433", borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
          ...rs.map((role, i) => ({ label: label(role), data: ws.map((w) => (w.stages[role] || {}).order ?? null),
            borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], pointRadius: 0, borderWidth: 2 })),
        ],
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { usePointStyle: true, pointStyle: "line" } } },
        scales: { x: { title: { display: true, text: t("week") } }, y: { beginAtZero: true, title: { display: true, text: t("orders") } } } },
    });
  }

  function renderPair() {
    for (const c of pairCharts.splice(0)) c.destroy();
    const v = $("#pair-view").dataset;
    const a = data, b = pair;
    const same = a.seed === b.seed && a.weeks === b.weeks && (a.roles || []).join() === (b.roles || []).join();
    setText("#pair-warning", same ? "" : v.otherDemand);
    const la = sharingText(a), lb = sharingText(b);
    const others = Object.fromEntries((b.teams || []).map((tm) => [tm.team, tm]));
    const cards = teams().filter((tm) => others[tm.team]).map((tm) => {
      const ob = others[tm.team];
      const card = $("#pair-team").content.firstElementChild.cloneNode(true);
      card.querySelector(".pair-name").textContent = teamName(tm);
      card.querySelector(".pair-a").textContent = la;
      card.querySelector(".pair-b").textContent = lb;
      for (const [side, text] of [["a", la], ["b", lb]]) {
        card.querySelector(".pair-bw-" + side).textContent = t("bullwhip_ratio") + " · " + text;
        card.querySelector(".pair-bound-" + side).textContent = v.bound;
        card.querySelector(".pair-cost-" + side).textContent = t("cost") + " · " + text;
      }
      const sa = score(tm).stages || {}, sb = score(ob).stages || {};
      card.querySelector("tbody").replaceChildren(...roles().map((r) => r.role).map((role) => {
        const x = sa[role] || {}, y = sb[role] || {};
        return el("tr", {}, [
          el("th", { scope: "row", text: label(role) }),
          el("td", { text: ratio(x.bullwhip) }), el("td", { text: ratio(x.bullwhip_bound) }), el("td", { text: money(x.cost) }),
          el("td", { text: ratio(y.bullwhip) }), el("td", { text: ratio(y.bullwhip_bound) }), el("td", { text: money(y.cost) }),
        ]);
      }));
      return [card, tm, ob];
    });
    $("#pair-teams").replaceChildren(...cards.map(([card]) => card));
    for (const [card, tm, ob] of cards) {
      for (const [side, team, text] of [["a", tm, la], ["b", ob, lb]]) {
        const canvas = card.querySelector(".pair-chart-" + side);
        const c = ordersChart(canvas, team, teamName(team) + " · " + text);
        pairCharts.push(c);
        pngButton(canvas, teamName(team) + " · " + text, () => savePng(c, `pair-team-${tm.team}-${side}`, teamName(team) + " · " + text));
      }
    }
  }
  const pairCharts = [];

  async function download(kind) {
    const r = await fetchResults(kind);
    if (!r.ok) { setText("#db-error", t("no_results")); return; }
    const blob = await r.resp.blob();
    const a = el("a", { href: URL.createObjectURL(blob), download: `beergame-${code}.${kind}`, hidden: true, text: kind });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // ---- data access (one place that knows the results shape) -------------------------------------
  const scn = JSON.parse($("#scenario-info").textContent || "null") || {};
  const teams = () => data.teams || [];
  const roles = () => scn.stages || (data.roles || []).map((role) => ({ role, label: role, supplier: null }));
  const label = (role) => (roles().find((r) => r.role === role) || { label: role }).label;
  const teamName = (tm) => BG.teamName(tm.team, tm.name);
  const score = (tm) => tm.score || {};
  /** The team's week records as {week, demand, stages: {role: event}}. */
  const weeks = (tm) => (tm.weeks || []).map((w) => {
    const evs = w.roles || {};
    const demand = Object.values(evs).reduce((acc, ev) => acc + (ev.demand || 0), 0);
    return { week: w.week, demand, stages: evs };
  });
  const strategyColumn = !scn.name || scn.has_codp || scn.has_shop; // as the template decided
  const sourceRole = () => (roles().find((r) => !r.supplier) || roles()[0] || {}).role;

  /** Weeks played by the team that played most. */
  const played = () => Math.max(0, ...teams().map((tm) => (tm.weeks || []).length));

  /** For a game that stopped before its last week: what the weeks played showed (the preset's own
      note is written for the whole game and may say what never happened); else "". */
  function playedText() {
    const n = played();
    if (!teams().length || n >= data.weeks) return "";
    const demand = weeks(teams()[0]).map((w) => w.demand);
    const lo = Math.min(...demand), hi = Math.max(...demand);
    const what = !demand.length ? "" : lo === hi ? t("demand_steady", { n: num(lo), weeks: n }) : t("demand_range", { lo: num(lo), hi: num(hi), weeks: n });
    return [t("ended_early", { played: n, weeks: data.weeks }), what].filter(Boolean).join(" ");
  }

  /** The team's strategies in the order it played them: "A → B (from week 13)". */
  function strategyText(tm) {
    const list = tm.strategy || [];
    if (list.length < 2) return BG.strategyTitle(tm.codp, tm.shop);
    return list.map((x, i) => BG.strategyTitle(x.codp, x.shop) + (i ? " " + t("from_week", { week: x.from_week }) : "")).join(" → ");
  }

  /** Charts over the weeks: a dashed line where the team changed its strategy, named after the new one. */
  function switchMarks(tm) {
    const marks = (tm.strategy || []).slice(1);
    return {
      id: "switchMarks",
      afterDatasetsDraw(c) {
        const { ctx, chartArea: area, scales } = c;
        for (const m of marks) {
          const i = c.data.labels.indexOf(m.from_week);
          if (i < 0) continue;
          const x = scales.x.getPixelForValue(i);
          ctx.save();
          ctx.strokeStyle = "#5b2a86";
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, area.top);
          ctx.lineTo(x, area.bottom);
          ctx.stroke();
          ctx.fillStyle = "#5b2a86";
          ctx.font = "12px " + Chart.defaults.font.family;
          const text = "→ " + BG.strategyTitle(m.codp, m.shop);
          const left = x + 4 + ctx.measureText(text).width > area.right; // near the right edge: write it to the left
          ctx.textAlign = left ? "right" : "left";
          ctx.fillText(text, left ? x - 4 : x + 4, area.top + 12);
          ctx.restore();
        }
      },
    };
  }

  function stageCost(st) {
    const other = (st.material_cost || 0) + (st.write_off || 0);
    return Object.assign({}, st, { other });
  }

  // ---- views ----------------------------------------------------------------------------------
  function tabs() {
    const nav = $("#tabs");
    const items = [["class", t("class")], ...teams().map((tm) => ["team-" + tm.team, teamName(tm)])];
    if (pair) items.push(["pair", code + " | " + pair.code]);
    nav.replaceChildren(...items.map(([id, text]) => el("button", {
      type: "button", class: "btn small", "data-view": id, "aria-pressed": "false", text, onclick: () => show(id),
    })));
  }

  function show(id) {
    for (const b of nav()) b.setAttribute("aria-pressed", String(b.dataset.view === id));
    const tm = teams().find((x) => "team-" + x.team === id);
    const paired = id === "pair" && !!pair;
    $("#class-view").hidden = !!tm || paired;
    $("#team-view").hidden = !tm;
    $("#pair-view").hidden = !paired;
    if (tm) renderTeam(tm); else if (paired) renderPair(); else renderClass();
    history.replaceState(null, "", "#" + id);
  }
  const nav = () => Array.from(document.querySelectorAll("#tabs [data-view]"));

  /** Slides: a white background, so that the PNG reads on any slide. */
  const whiteBackground = {
    id: "whiteBackground",
    beforeDraw(c) {
      const ctx = c.ctx;
      ctx.save();
      ctx.globalCompositeOperation = "destination-over";
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.restore();
    },
  };

  const SLIDE = { width: 1600, height: 900 };

  /** The chart drawn again at slide size (1600x900) with ``title`` above it, as a PNG data URL. */
  function slideImage(c, title) {
    const box = el("div", { "aria-hidden": "true" });
    Object.assign(box.style, { position: "fixed", left: -(SLIDE.width + 100) + "px", top: "0", width: SLIDE.width + "px", height: SLIDE.height + "px" });
    const canvas = el("canvas", { width: String(SLIDE.width), height: String(SLIDE.height) });
    box.append(canvas);
    document.body.append(box);
    const size = Chart.defaults.font.size;
    Chart.defaults.font.size = 20; // legible on a projected slide
    const cfg = c.config;
    const options = Object.assign({}, cfg.options, { responsive: false, maintainAspectRatio: false, animation: false, devicePixelRatio: 1, layout: { padding: 24 } });
    options.plugins = Object.assign({}, cfg.options.plugins, { title: { display: true, text: title, font: { size: 30, weight: "bold" }, padding: { bottom: 18 } } });
    const copy = new Chart(canvas, {
      type: cfg.type, options, plugins: cfg.plugins,
      data: { labels: cfg.data.labels, datasets: cfg.data.datasets.map((d) => Object.assign({}, d)) },
    });
    const url = copy.toBase64Image("image/png", 1);
    copy.destroy();
    box.remove();
    Chart.defaults.font.size = size;
    return url;
  }

  /** Save a chart as a slide-size PNG with its title, named after the session, the view and the chart. */
  function savePng(c, what, title) {
    if (!c) return;
    const a = el("a", { href: slideImage(c, title), download: `beergame-${code}-${what}.png`, hidden: true, text: title || what });
    document.body.append(a);
    a.click();
    a.remove();
  }

  /** A "Save as PNG" button under a chart's box; ``name`` is the chart's title. */
  function pngButton(canvas, name, save) {
    canvas.closest(".chart-box").after(el("button", {
      type: "button", class: "btn small save-png", "data-chart": canvas.id || null, text: t("save_png"),
      "aria-label": t("save_png") + ": " + name, onclick: save,
    }));
  }

  /** One "Save as PNG" button under every chart of the class and team views (the pair view adds its own). */
  function pngButtons() {
    for (const canvas of document.querySelectorAll(".chart-box canvas[id]")) {
      const heading = document.getElementById(canvas.getAttribute("aria-labelledby"));
      const name = heading ? heading.textContent.trim() : canvas.id;
      pngButton(canvas, name, () => {
        const view = $("#team-view").hidden ? "class" : (nav().find((b) => b.getAttribute("aria-pressed") === "true") || {}).dataset.view || "team";
        const team = $("#team-view").hidden ? data.title && BG.scenarioTitle(data.title) : $("#h-team").textContent;
        savePng(charts[canvas.id], `${view}-${canvas.id.replace(/^c-/, "")}`, [name, team].filter(Boolean).join(" · "));
      });
    }
  }

  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    config.plugins = [...(config.plugins || []), whiteBackground];
    const legend = { position: "bottom", labels: { usePointStyle: config.type === "line", pointStyle: "line" } };
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false }, plugins: { legend } }, config.options || {});
    if (config.type === "line") for (const ds of config.data.datasets) ds.backgroundColor = ds.borderColor;
    charts[id] = new Chart($("#" + id), config);
  }

  /** Share of consumer demand that was served or is still waiting (not lost). */
  const served = (k) => (k.lost_share === null || k.lost_share === undefined ? null : 1 - k.lost_share);
  const leadTime = (k) => (k.avg_lead_time === null || k.avg_lead_time === undefined ? "–" : num(k.avg_lead_time));

  function renderClass() {
    const rankOf = Object.fromEntries((data.ranking || []).map((r) => [r.team, r.rank]));
    const rows = teams().slice().sort((a, b) => (rankOf[a.team] ?? 999) - (rankOf[b.team] ?? 999)).map((tm) => {
      const s = score(tm);
      const k = s.kpis || {};
      const bw = (k.bullwhip || {})[sourceRole()];
      return el("tr", {}, [
        el("td", { text: rankOf[tm.team] ?? "–" }),
        el("th", { scope: "row" }, [el("a", { href: "#team-" + tm.team, onclick: (e) => { e.preventDefault(); show("team-" + tm.team); }, text: teamName(tm) })]),
        el("td", { text: money(s.score) }),
        el("td", { text: money((s.totals || {}).cost) }),
        el("td", { text: pct(served(k)) }),
        el("td", { text: leadTime(k) }),
        el("td", { text: ratio(bw) }),
        ...(strategyColumn ? [el("td", { text: strategyText(tm) || "–" })] : []),
      ]);
    });
    $("#ranking tbody").replaceChildren(...rows);
    const list = teams();
    chart("c-class", {
      type: "bar",
      data: {
        labels: list.map(teamName),
        datasets: COST_PARTS.map(([key, lab, color]) => ({
          label: t(lab), backgroundColor: color,
          data: list.map((tm) => sumStages(tm, key)),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: t("money") } } } },
    });
    classBullwhip(list);
  }

  function classBullwhip(list) {
    const rs = roles().map((r) => r.role).reverse();
    const empty = list.every((tm) => rs.every((role) => ((score(tm).stages || {})[role] || {}).bullwhip == null));
    $("#bw-empty").hidden = !empty;
    $("#c-class-bw").closest(".chart-box").hidden = empty;
    const button = document.querySelector(".save-png[data-chart=c-class-bw]");
    if (button) button.hidden = empty;
    chart("c-class-bw", {
      type: "bar",
      data: {
        labels: list.map(teamName),
        datasets: rs.map((role, i) => ({
          label: label(role), backgroundColor: COLORS[i % COLORS.length],
          data: list.map((tm) => ((score(tm).stages || {})[role] || {}).bullwhip ?? null),
        })),
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: t("bullwhip_ratio") } } } },
    });
  }

  function sumStages(tm, key) {
    return Object.values(score(tm).stages || {}).reduce((acc, st) => acc + (stageCost(st)[key] || 0), 0);
  }

  /** Co-makership: in which weeks the team's deal was in force ("" where no segment could co-make). */
  function dealText(tm) {
    const weeks = (tm.weeks || []).filter((w) => "deal" in w);
    if (!weeks.length) return "";
    const on = weeks.filter((w) => w.deal).map((w) => w.week);
    if (!on.length) return t("deal_never");
    const revenue = weeks.filter((w) => w.deal).reduce((acc, w) => acc + Object.values(w.roles || {})
      .reduce((a, ev) => a + (ev.revenue || 0), 0), 0);
    return t("deal_weeks", { n: on.length, of: weeks.length, first: on[0], last: on[on.length - 1], revenue: money(revenue) });
  }

  function renderTeam(tm) {
    const s = score(tm);
    const k = s.kpis || {};
    const tot = s.totals || {};
    const strategy = strategyText(tm);
    setText("#h-team", teamName(tm) + (strategy ? " · " + strategy : ""));
    const switches = (tm.strategy || []).slice(1).map((x, i) => t("strategy_switch", {
      week: x.from_week, from: BG.strategyTitle(tm.strategy[i].codp, tm.strategy[i].shop), to: BG.strategyTitle(x.codp, x.shop),
    }));
    $("#team-strategy").hidden = !switches.length;
    setText("#team-strategy", switches.join(" "));
    const deal = dealText(tm);
    $("#team-deal").hidden = !deal;
    setText("#team-deal", deal);
    const seated = roles().filter((r) => (tm.players || {})[r.role]).map((r) => label(r.role) + ": " + tm.players[r.role].join(" & "));
    setText("#team-players", seated.length ? t("players_list", { players: seated.join(" · ") }) : t("players_none"));
    const tiles = [
      [t("score"), money(s.score)],
      [t("cost"), money(tot.cost)],
      [t("demand_served"), pct(served(k))],
      [t("fill_rate"), pct(k.fill_rate)],
      [t("lost_share"), pct(k.lost_share)],
      [t("avg_lead_time"), leadTime(k)],
      [t("bullwhip_source"), ratio((k.bullwhip || {})[sourceRole()])],
      [t("lost_margin"), money(tot.lost_margin)],
      [t("weeks_played"), num(s.weeks_played)],
    ];
    $("#kpis").replaceChildren(...tiles.map(([a, b]) => el("div", { class: "tile" }, [el("dt", { text: a }), el("dd", { text: b })])));

    const ws = weeks(tm);
    const xs = ws.map((w) => w.week);
    const rs = roles().map((r) => r.role);
    const demand = ws.map((w) => w.demand);
    chart("c-orders", {
      type: "line",
      plugins: [switchMarks(tm)],
      data: {
        labels: xs,
        datasets: [
          { label: t("demand"), data: demand, borderColor: "#1a2433", borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
          ...rs.slice().reverse().map((role, i) => ({
            label: label(role), data: ws.map((w) => (w.stages[role] || {}).order ?? null),
            borderColor: COLORS[i % COLORS.length], pointRadius: 0, borderWidth: 2,
          })),
        ],
      },
      options: { scales: { x: { title: { display: true, text: t("week") } }, y: { beginAtZero: true, title: { display: true, text: t("orders") } } } },
    });
    chart("c-stock", {
      type: "line",
      plugins: [switchMarks(tm)],
      data: {
        labels: xs,
        datasets: rs.slice().reverse().map((role, i) => ({
          label: label(role), data: ws.map((w) => { const st = w.stages[role] || {}; return (st.inventory || 0) - (st.backlog || 0); }),
          borderColor: COLORS[i % COLORS.length], pointRadius: 0, borderWidth: 2,
        })),
      },
      options: { scales: { x: { title: { display: true, text: t("week") } }, y: { suggestedMin: 0, title: { display: true, text: t("net_stock") } } } },
    });
    const stages = s.stages || {};
    chart("c-cost", {
      type: "bar",
      data: {
        labels: rs.map(label),
        datasets: COST_PARTS.map(([key, lab, color]) => ({
          label: t(lab), backgroundColor: color, data: rs.map((role) => stageCost(stages[role] || {})[key] || 0),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: t("money") } } } },
    });
    renderCompare(tm);
    renderPromise(tm, s);
    renderChannels(s.channels || {});
    renderSegments(s.channels || {});
    renderStockPoints(s.stock_points || {});
    $("#stages-table tbody").replaceChildren(...rs.map((role) => {
      const st = stages[role] || {};
      return el("tr", {}, [
        el("th", { scope: "row", text: label(role) }),
        el("td", { text: st.mode === "mto" ? t("mode_mto") : t("mode_mts") }),
        el("td", { text: ratio(st.bullwhip) }),
        el("td", { text: ratio(st.bullwhip_bound) }),
        el("td", { text: st.order_variance === null || st.order_variance === undefined ? "–" : num(st.order_variance) }),
        el("td", { text: num(st.avg_inventory) }),
        el("td", { text: num(st.avg_backlog) }),
        el("td", { text: money(st.cost) }),
      ]);
    }));
  }

  /** The sales seat (shown where there is one): per week the promise it made, the lead time that had been
   * promised to the customers served and the lead time they got, and what broken promises cost. */
  function renderPromise(tm, s) {
    const rows = (tm.weeks || []).map((w) => [w.week, Object.values(w.roles || {}).find((ev) => ev && "promise" in ev)])
      .filter(([, ev]) => ev);
    $("#promise-card").hidden = !rows.length;
    if (!rows.length) return;
    const mean = (sum, n) => (n ? sum / n : null);
    chart("c-promise", {
      type: "line",
      data: {
        labels: rows.map(([w]) => w),
        datasets: [
          { label: t("promise_made"), data: rows.map(([, ev]) => ev.promise), borderColor: COLORS[0], stepped: true, pointRadius: 0, borderWidth: 2 },
          { label: t("promise_to_served"), data: rows.map(([, ev]) => mean(ev.promised_sum, ev.promised_sold)), borderColor: COLORS[1], borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
          { label: t("lead_time_delivered"), data: rows.map(([, ev]) => mean(ev.lead_time_sum, ev.sold)), borderColor: COLORS[2], pointRadius: 2, borderWidth: 2 },
        ],
      },
      options: { scales: { x: { title: { display: true, text: t("week") } }, y: { beginAtZero: true, title: { display: true, text: t("lead_time_weeks") } } } },
    });
    const sum = (s.sales || {}).summary || {};
    setText("#promise-note", t("promise_summary", { broken: num(sum.broken ?? 0), share: pct(sum.broken_share), cost: money(sum.cost ?? 0) }));
  }

  /** The consumer-facing channels side by side (shown when there is more than one). */
  function renderChannels(channels) {
    const rows = roles().map((r) => r.role).filter((role) => role in channels).map((role) => [role, channels[role]]);
    $("#channels-card").hidden = rows.length < 2;
    $("#channels-table tbody").replaceChildren(...rows.map(([role, c]) => el("tr", {}, [
      el("th", { scope: "row", text: label(role) }),
      el("td", { text: num(c.demand) }),
      el("td", { text: num(c.sold) }),
      el("td", { text: num(c.lost) }),
      el("td", { text: pct(c.share_of_sales) }),
      el("td", { text: money(c.revenue) }),
      el("td", { text: c.avg_lead_time === null || c.avg_lead_time === undefined ? "–" : num(c.avg_lead_time) }),
    ])));
  }

  /** Demand and lost customers per segment, over every consumer-facing channel (shown with several segments). */
  function renderSegments(channels) {
    const seg = {};
    for (const c of Object.values(channels)) {
      for (const [name, d] of Object.entries(c.demand_by_segment || {})) {
        const row = (seg[name] = seg[name] || { demand: 0, lost: 0 });
        row.demand += d;
        row.lost += (c.lost_by_segment || {})[name] || 0;
      }
    }
    const rows = Object.entries(seg);
    $("#segments-card").hidden = rows.length < 2;
    $("#segments-table tbody").replaceChildren(...rows.map(([name, r]) => el("tr", {}, [
      el("th", { scope: "row", text: BG.nameOf(name) }),
      el("td", { text: num(r.demand) }),
      el("td", { text: num(r.lost) }),
      el("td", { text: r.demand ? pct(r.lost / r.demand) : "–" }),
    ])));
  }

  /** Stock, backlog and lost customers per variant and region (where a stage holds several stock points). */
  function renderStockPoints(points) {
    const rows = Object.entries(points);
    $("#points-card").hidden = rows.length === 0;
    $("#points-table tbody").replaceChildren(...rows.map(([name, p]) => {
      const where = BG.stockPoint(name);
      return el("tr", {}, [
        el("th", { scope: "row", text: label(p.role) }),
        el("td", { text: where }),
        el("td", { text: num(p.avg_inventory) }),
        el("td", { text: num(p.avg_backlog) }),
        el("td", { text: num(p.stockout_weeks) }),
        el("td", { text: p.demand === undefined ? "–" : num(p.demand) }),
        el("td", { text: p.lost === undefined ? "–" : num(p.lost) }),
      ]);
    }));
  }

  const benchCache = {};
  async function benchmark(tm) {
    if (!(tm.team in benchCache)) {
      const cred = credentials();
      try {
        const resp = await fetch(`/debrief/${code}/benchmark/${tm.team}.json${cred ? cred.query : ""}`, { headers: cred ? cred.headers : {} });
        benchCache[tm.team] = resp.ok ? await resp.json() : null;
      } catch {
        return null; // the server went away: the chart shows the team alone and says why (asked again later)
      }
    }
    return benchCache[tm.team];
  }

  /** A bar's label in lines of at most ``max`` characters (broken at spaces): a phone's narrow
   * axis then shows every word rather than cutting the start of a long position's name. */
  function lines(text, max = 18) {
    const out = [];
    for (const word of String(text).split(" ")) {
      const last = out.length ? out[out.length - 1] : null;
      if (last !== null && (last + " " + word).length <= max) out[out.length - 1] = last + " " + word;
      else out.push(word);
    }
    return out;
  }

  async function renderCompare(tm) {
    const s = score(tm);
    setText("#compare-note", t("computing"));
    const bench = await benchmark(tm);
    const bars = [{ label: t("this_team"), value: s.score ?? 0, color: "#0b5cad" }];
    if (bench && bench.chosen) {
      const own = bench.chosen.position ? [t("best_plan"), ...lines(BG.codpTitle(bench.chosen.position))] : t("best_plan");
      bars.push({ label: own, value: bench.chosen.profit, color: "#1b6e3a" });
      for (const [pos, plan] of Object.entries(bench.by_position || {})) {
        bars.push({ label: [t("best_plan"), ...lines(BG.codpTitle(pos))], value: plan.profit, color: "#7a4a00" });
      }
    }
    const ref = bench && bench.reference;
    if (ref) {
      // the preset's reference plans (tuned on other demand histories), replayed on this team's demand
      for (const [pos, profit] of Object.entries(ref.by_position)) {
        bars.push({ label: [t("reference_plan"), ...lines(BG.codpTitle(pos))], value: profit, color: pos === ref.own ? "#5b2a86" : "#9b7fb8" });
      }
    }
    setText("#compare-note", bench ? t("compare_note") : t("no_compare"));
    const refNote = $("#reference-note");
    refNote.hidden = !ref;
    if (ref) {
      refNote.textContent = t("reference_note", {
        earned: money(s.score ?? 0),
        own: money(ref.by_position[ref.own] ?? 0),
        position: BG.codpTitle(ref.own),
        best: BG.codpTitle(ref.best),
        best_profit: money(ref.by_position[ref.best] ?? 0),
        winner: BG.codpTitle(ref.winner),
      });
    }
    const drivers = (bench && bench.drivers) || [];
    $("#drivers-box").hidden = !drivers.length;
    $("#drivers-list").replaceChildren(...drivers.map((d) => el("li", { text: d })));
    // every bar keeps its label: the box grows with the bars and their lines rather than skipping some
    const rows = bars.reduce((n, b) => n + (Array.isArray(b.label) ? b.label.length : 1), 0);
    $("#c-compare").closest(".chart-box").style.height = Math.max(320, 16 * rows + 24 * bars.length + 90) + "px";
    chart("c-compare", {
      type: "bar",
      data: { labels: bars.map((b) => b.label), datasets: [{ label: t("score"), data: bars.map((b) => b.value), backgroundColor: bars.map((b) => b.color) }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { title: { display: true, text: t("score") } }, y: { ticks: { autoSkip: false } } } },
    });
  }

  function pct(x) { return x === null || x === undefined ? "–" : num(Math.round(x * 1000) / 10) + "%"; }
  function ratio(x) { return x === null || x === undefined ? "–" : num(Math.round(x * 10) / 10); }

  // ---- wiring ---------------------------------------------------------------------------------
  $("#dl-csv").addEventListener("click", () => download("csv"));
  $("#dl-print").addEventListener("click", () => window.print());
  // print layout: the charts take the page's width, one per page (see app.css)
  const resizeAll = () => { for (const c of Object.values(charts)) c.resize(); };
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  pngButtons();
  takeSecretFromLink();
  $("#dl-json").addEventListener("click", () => download("json"));
  $("#dl-xlsx").addEventListener("click", () => download("xlsx"));
  $("#db-pair").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const other = $("#pair-input").value.trim().toUpperCase();
    if (!other) return;
    const url = new URL(location.href);
    url.searchParams.set("with", other);
    history.replaceState(null, "", url.pathname + url.search + "#pair");
    await loadPair(other);
    tabs();
    show(pair ? "pair" : "class");
  });
  $("#db-secret").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const secret = $("#secret-input").value.trim();
    if (!secret) return;
    store.set("beergame.fac." + code, { code, secret });
    load();
  });
  if (window.Chart) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#1a2433";
  }
  load();
})();
