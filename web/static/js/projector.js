/* Projector: the class's view, updated live. The ranking (top rows and how many more), the
 * orders of each stage over all teams week by week (the bullwhip building up), the chain, and
 * a strip of who has decided in each team (pages that turn in a large class). Public data only. */
"use strict";
(() => {
  const { t, $, el, num, money, setText } = BG;
  const code = $("#proj").dataset.code;
  const socket = BG.connect("#conn");
  const TOP = 8; // ranking rows that fit a projected screen in large type, then how many more
  let stripPage = 60; // teams on one page of the strip: as many as fit below it (fitStrip)
  const TURN_MS = 8000; // a page of the strip turns after this long
  const COLOURS = ["#8cc4ff", "#ffd166", "#7ee2a8", "#ff9e80", "#d7a8ff", "#80deea", "#f48fb1", "#c5e1a5"];
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let session = {};
  let labels = {};
  let progress = new Map(); // team -> {team, week, done, decided, bots}
  let roles = [];
  let page = 0;
  let gameOver = false; // the session is over: the strip says so rather than who is deciding

  function roleName(role) { return BG.roleLabel(role, labels[role] || role); }

  function renderBoard(s, ranking) {
    setText("#p-title", BG.scenarioTitle(s.title) || code);
    const week = s.week || Math.max(0, ...Array.from(progress.values(), (p) => p.week));
    setText("#p-week", week ? BG.weekText(week, s.weeks) : "");
    const st = s.paused ? "paused" : s.status || "setup";
    setText("#p-status", "(" + (t("status_" + st) === "status_" + st ? st : t("status_" + st)) + ")");
    if ((st === "over") !== gameOver) { gameOver = st === "over"; renderStrip(); }
    const rows = ranking.slice(0, TOP).map((r) => el("tr", { class: r.rank === 1 ? "top" : "" }, [
      el("td", { text: r.rank }),
      el("th", { scope: "row", text: BG.teamName(r.team, r.name) }),
      el("td", { text: r.week ?? "" }),
      // no money before a week is played
      el("td", { text: r.week > 1 || r.done ? money(r.cost) : "–" }),
      el("td", { text: r.week > 1 || r.done ? money(r.profit) : "–" }),
    ]));
    if (ranking.length > TOP) {
      rows.push(el("tr", {}, [el("td", { colspan: 5, class: "more", text: t("more_teams", { n: ranking.length - TOP }) })]));
    }
    if (rows.length) $("#board-body").replaceChildren(...rows);
  }

  // ---- the class's orders per stage: one small chart each, one scale, upstream at the top -----
  const charts = {};
  function renderOrders(orders) {
    if (!orders || !window.Chart) return;
    const weeks = orders.played || [];
    setText("#orders-note", weeks.length ? t("orders_chart_note") : t("orders_chart_wait"));
    const high = Math.max(1, ...roles.flatMap((r) => (orders.spread[r] || []).map((q) => q[2])));
    const top = Math.ceil(high / 10) * 10; // one scale for every stage: 0, half, top
    const box = $("#orders-charts");
    box.style.setProperty("--stages", roles.length);
    roles.forEach((role, i) => {
      const spread = orders.spread[role] || [];
      const colour = COLOURS[i % COLOURS.length];
      const lastQ = spread[spread.length - 1];
      const label = roleName(role) + ": " + (lastQ ? t("orders_spread", { stage: "", median: num(lastQ[1]), lo: num(lastQ[0]), hi: num(lastQ[2]) }).trim() : t("nothing_on_way"));
      let c = charts[role];
      if (!c) {
        const canvas = el("canvas", { role: "img" });
        box.append(el("figure", { class: "orders-panel" }, [el("figcaption", { text: roleName(role) }), el("div", { class: "orders-canvas" }, [canvas])]));
        c = charts[role] = new Chart(canvas, config(colour));
      }
      c.canvas.setAttribute("aria-label", label);
      c.data.labels = weeks;
      c.data.datasets[0].data = spread.map((q) => q[2]);
      c.data.datasets[1].data = spread.map((q) => q[0]);
      c.data.datasets[2].data = spread.map((q) => q[1]);
      c.options.scales.x.ticks.display = i === roles.length - 1; // the weeks once, under the last panel
      c.options.scales.y.max = top;
      c.options.scales.y.ticks.stepSize = top / 2;
      c.update();
    });
    const lastWeek = weeks[weeks.length - 1];
    setText("#orders-summary", lastWeek ? t("orders_summary", {
      week: lastWeek,
      parts: roles.map((r) => { const q = orders.spread[r][weeks.length - 1]; return t("orders_spread", { stage: roleName(r), median: num(q[1]), lo: num(q[0]), hi: num(q[2]) }); }).join(" · "),
    }) : "");
  }

  function config(colour) {
    const band = colour + "55";
    return {
      type: "line",
      data: { labels: [], datasets: [
        { label: "p90", data: [], borderWidth: 0, pointRadius: 0, backgroundColor: band, fill: "+1" },
        { label: "p10", data: [], borderWidth: 0, pointRadius: 0, fill: false },
        { label: t("orders"), data: [], borderColor: colour, borderWidth: 4, pointRadius: 0, fill: false, tension: 0.2 },
      ] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: still ? false : { duration: 600 },
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: {
          x: { ticks: { color: "#d8e1f0", font: { size: 16 }, maxTicksLimit: 12 }, grid: { color: "#26365a" } },
          y: { min: 0, ticks: { color: "#d8e1f0", font: { size: 16 } }, grid: { color: "#26365a" } },
        },
      },
    };
  }

  // ---- the chain: the session's structure, the class's median order at each stage ------------
  function renderChain(chain, orders) {
    if (!chain || !chain.length) return;
    const n = orders && orders.played ? orders.played.length : 0;
    const stages = chain.map((c) => {
      const q = n ? (orders.spread[c.role] || [])[n - 1] : null;
      return Object.assign({}, c, q ? { figure: t("chain_median_order", { n: num(q[1]) }) } : {});
    });
    Chain.draw($("#chain"), { stages, week: n, public: true, caption: t("chain_class_caption") });
  }

  // ---- who has decided: a strip of teams, a page at a time --------------------------------------
  function renderStrip() {
    const teams = Array.from(progress.values()).sort((a, b) => a.team - b.team);
    const playing = teams.filter((p) => !p.done && p.bots.length < roles.length);
    const ready = playing.filter((p) => roles.every((r) => p.bots.includes(r) || p.decided.includes(r)));
    const left = playing.reduce((n, p) => n + roles.filter((r) => !p.bots.includes(r) && !p.decided.includes(r)).length, 0);
    const over = gameOver || (teams.length > 0 && teams.every((p) => p.done)); // no week waits for anyone
    setText("#strip-summary", playing.length ? t("decided_summary", { done: ready.length, n: playing.length, left }) : over ? t("game_over") : t("decided_none"));
    const pages = Math.max(1, Math.ceil(teams.length / stripPage));
    page %= pages;
    const shown = teams.slice(page * stripPage, (page + 1) * stripPage);
    setText("#strip-page", pages > 1 ? t("teams_page", { from: shown[0].team, to: shown[shown.length - 1].team, n: teams.length }) : "");
    $("#strip").replaceChildren(...shown.map((p) => {
      const humans = roles.filter((r) => !p.bots.includes(r));
      const decided = humans.filter((r) => p.decided.includes(r)).length;
      const all = humans.length > 0 && decided === humans.length;
      return el("li", { class: "cell" + (p.done ? " done" : all ? " all" : "") }, [
        el("span", { class: "tn", "aria-hidden": "true", text: p.team }),
        el("span", { class: "dots", "aria-hidden": "true" }, roles.map((r) => el("i", { class: "d" + (p.bots.includes(r) ? " bot" : p.decided.includes(r) ? " on" : "") }))),
        el("span", { class: "sr-only", text: t("team_decided_of", { team: BG.teamName(p.team), week: p.week, n: decided, total: humans.length }) }),
      ]);
    }));
  }

  /** On a wide screen, as many teams per page as fit between the strip's top and the screen's foot. */
  function fitStrip() {
    const strip = $("#strip");
    const cell = strip.querySelector(".cell");
    if (!cell || window.innerWidth < 720) { stripPage = 60; return; }
    const cols = Math.max(1, Math.floor((strip.clientWidth + 5) / (cell.offsetWidth + 5)));
    const rows = Math.max(2, Math.floor((window.innerHeight - strip.getBoundingClientRect().top - 12) / (cell.offsetHeight + 5)));
    const fit = cols * rows;
    if (fit !== stripPage) { stripPage = fit; renderStrip(); }
  }

  function render(lb) {
    session = lb.session || session;
    if (lb.chain) {
      roles = lb.chain.map((c) => c.role);
      labels = Object.fromEntries(lb.chain.map((c) => [c.role, c.label]));
    }
    if (lb.progress) progress = new Map(lb.progress.map((p) => [p.team, p]));
    renderBoard(session, lb.ranking || []);
    renderOrders(lb.orders);
    renderChain(lb.chain, lb.orders);
    renderStrip();
    fitStrip();
  }

  if (window.Chart) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#d8e1f0";
  }
  socket.on("connect", async () => {
    const ack = await socket.request("watch", { code });
    if (!ack.ok) setText("#p-status", BG.errorText(ack));
  });
  socket.on("leaderboard", render);
  socket.on("progress", (p) => {
    for (const row of p.teams || []) progress.set(row.team, row);
    renderStrip();
  });
  socket.on("game_over", (g) => renderBoard(Object.assign({}, session, { status: "over" }), g.ranking || []));
  setInterval(() => { if (progress.size > stripPage) { page += 1; renderStrip(); } }, TURN_MS);
  window.addEventListener("resize", fitStrip);
})();
