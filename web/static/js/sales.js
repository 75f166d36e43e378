/* The sales seat on the player page, loaded only for that seat (play.js): its number and intro,
 * and its card: the promise in force, the chain's quote, the customers waiting and how late,
 * production's capacity (the smallest stage's), last week's customers, and the promise against
 * the lead time delivered. */
"use strict";
window.SalesSeat = (() => {
  const { t, $, el, num, money, setText } = BG;
  const TILES = ["promise", "quote", "waiting", "late", "capacity", "demand", "accepted", "lost", "reneged", "broken"];

  function table(id, label, heads) {
    const head = el("tr", {}, heads.map((h) => el("th", { scope: "col", text: t(h) })));
    return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": label }, [
      el("table", { id, class: "compact" }, [el("thead", {}, [head]), el("tbody")]),
    ]);
  }

  function build(card) {
    const tiles = TILES.map((k) => el("div", { class: "tile", id: "tile-s-" + k }, [el("dt", { text: t("s_" + k) }), el("dd", { id: "s-" + k, text: "–" })]));
    card.replaceChildren(
      el("h2", { id: "h-sales", text: t("s_title") }),
      el("dl", { class: "tiles" }, tiles),
      el("h3", { id: "h-queue", text: t("s_waiting") }),
      table("s-queue", "h-queue", ["week", "s_units", "promised", "s_weeks_late"]),
      el("h3", { id: "h-promised", text: t("s_history") }),
      el("div", { id: "s-chart", class: "spark" }),
      table("s-history", "h-promised", ["week", "promised", "delivered", "s_broken", "cost"]),
    );
    $("#tile-s-late").classList.add("warn");
  }

  function rows(sel, lines) {
    $(sel + " tbody").replaceChildren(...lines.map(([head, ...cells]) => el("tr", {}, [
      el("th", { scope: "row", text: head }), ...cells.map((x) => el("td", { text: x })),
    ])));
  }

  function render(st) {
    const v = st.view.me;
    const history = st.history || [];
    const card = $("#sales-card");
    if (!card.firstChild) build(card);
    card.hidden = false;
    for (const n of document.querySelectorAll(".stage-only")) n.hidden = true; // a stage's cards
    setText("#decision-label", t("promise"));
    setText("#decision-help", t("promise_help", { lo: v.bounds[0], hi: v.bounds[1], quote: num(v.quote) }));
    $("#intro-list").replaceChildren(el("li", { text: t("intro_sales") }));
    const caps = Object.values(v.capacity || {});
    const late = (v.queue || []).filter((o) => o.late > 0).reduce((a, o) => a + o.units, 0);
    const tiles = { ...v, late, capacity: caps.length ? Math.min(...caps) : null };
    for (const k of TILES) setText("#s-" + k, num(tiles[k]));
    $("#tile-s-late").classList.toggle("on", late > 0);
    rows("#s-queue", (v.queue || []).slice(-6).map((o) => [o.week, num(o.units), num(o.promised), num(o.late)]));
    const last = history.filter((h) => h.promise !== undefined).slice(-12);
    const series = [
      { label: t("promised"), values: last.map((h) => h.promised ?? h.promise), color: "#0b5cad" },
      { label: t("delivered"), values: last.map((h) => h.delivered), color: "#b3261e", dash: "6 4" },
    ];
    Spark.draw($("#s-chart"), last.map((h) => h.week), series, t("s_history"));
    rows("#s-history", last.slice().reverse().slice(0, 6).map((h) => [h.week, num(h.promise), num(h.delivered), num(h.broken), money(h.cost)]));
  }

  return { render };
})();
