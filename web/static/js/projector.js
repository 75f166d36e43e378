/* Projector: the public leaderboard, updated live. */
"use strict";
(() => {
  const { t, $, el, money, setText } = BG;
  const code = $("#proj").dataset.code;
  const socket = BG.connect("#conn");
  const TOP = 12; // rows that fit a projected screen in large type

  function render(lb) {
    const s = lb.session || {};
    setText("#p-title", BG.scenarioTitle(s.title) || code);
    setText("#p-week", s.week ? BG.weekText(s.week, s.weeks) : "");
    const st = s.paused ? "paused" : s.status || "setup";
    setText("#p-status", "(" + (t("status_" + st) === "status_" + st ? st : t("status_" + st)) + ")");
    const ranking = lb.ranking || [];
    const rows = ranking.slice(0, TOP).map((r) => el("tr", { class: r.rank === 1 ? "top" : "" }, [
      el("td", { text: r.rank }),
      el("th", { scope: "row", text: BG.teamName(r.team, r.name) }),
      el("td", { text: r.week ?? "" }),
      el("td", { text: money(r.cost) }),
      el("td", { text: money(r.profit) }),
    ]));
    if (ranking.length > TOP) {
      rows.push(el("tr", {}, [el("td", { colspan: 5, class: "more", text: t("more_teams", { n: ranking.length - TOP }) })]));
    }
    if (rows.length) $("#board-body").replaceChildren(...rows);
  }

  socket.on("connect", async () => {
    const ack = await socket.request("watch", { code });
    if (!ack.ok) setText("#p-status", BG.errorText(ack));
  });
  socket.on("leaderboard", render);
  let session = {};
  socket.on("leaderboard", (lb) => { session = lb.session || session; });
  socket.on("game_over", (g) => render({ session: Object.assign({}, session, { status: "over" }), ranking: g.ranking || [] }));
})();
