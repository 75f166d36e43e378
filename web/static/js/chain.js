/* The chain as a picture: stages (upstream at the top), stock and backlog, goods on each link
 * (moving down) and orders in the mail (moving up), the decoupling point and the order-driven
 * stages. Hand-made HTML and CSS (no chart library), with a visually hidden table as its text
 * version. Only what the data holds is drawn: a stage or link without numbers was not shared. */
"use strict";
const Chain = (() => {
  const { t, el, num } = BG;
  const last = new WeakMap(); // container -> {key, week} of the last drawing

  /** The model of a player's ``state``: only what its view holds (see PROTOCOL.md). */
  function fromState(st) {
    const view = st.view || {};
    const me = view.me || {};
    const hist = st.history || view.history || [];
    const now = hist.length ? hist[hist.length - 1] : {};
    const inv = view.inventories || {};
    const pipes = view.pipelines || {};
    const pos = Array.isArray(view.pos_demand) && view.pos_demand.length ? view.pos_demand[view.pos_demand.length - 1] : null;
    const stages = (view.chain || []).map((c) => {
      const mine = c.role === view.role;
      const s = Object.assign({}, c, { me: mine });
      if (mine) {
        s.stock = { on_hand: me.on_hand, backlog: me.backlog, wip: me.wip };
        s.moved = { received: me.received, shipped: me.shipped };
        s.points = pointsOf(now.skus);
      } else if (inv[c.role]) {
        s.stock = inv[c.role];
      } else {
        s.unshared = true;
      }
      if (c.consumer_facing) {
        if (mine && now.demand !== undefined && now.demand !== null) s.market = { demand: now.demand, lost: now.lost || 0 };
        else if (pos && pos.by_channel && pos.by_channel[c.role] !== undefined) s.market = { demand: pos.by_channel[c.role] };
      }
      // the link from the stage's supplier: goods coming, orders going
      if (mine) s.link = { goods: me.on_the_way || [], orders: me.orders_in_mail || [] };
      else if (pipes[c.role]) s.link = { goods: pipes[c.role].on_the_way, orders: pipes[c.role].orders_in_mail };
      else if ((view.outgoing || {})[c.role]) s.link = { goods: view.outgoing[c.role], orders: null };
      return s;
    });
    return { stages, week: view.week, caption: t("chain_caption") };
  }

  /** Per stock point (``role/variant/region``): the part after the role, with stock and backlog. */
  function pointsOf(skus) {
    const names = Object.keys(skus || {});
    if (names.length < 2) return null;
    return names.map((n) => ({ name: n.split("/").slice(1).map(BG.nameOf).join(" ") || n, on_hand: skus[n][0], backlog: skus[n][1] }));
  }

  function modeText(s) {
    return s.mode === "mto" ? t("mode_mto") : s.mode === "mts" ? t("mode_mts") : "–";
  }

  /** Where the decoupling point sits: on each path from the consumers up, the first stage that
   * works to stock. Returns the roles it sits just above (a role, or "consumers:<role>"). */
  function codpMarks(stages) {
    const by = Object.fromEntries(stages.map((s) => [s.role, s]));
    const marks = new Set();
    if (stages.some((s) => !s.mode)) return marks; // each team chooses: no one position to show
    for (const f of stages.filter((s) => s.consumer_facing)) {
      let below = "consumers:" + f.role;
      let s = f;
      while (s && s.mode === "mto") { below = s.role; s = by[s.supplier]; }
      marks.add(below);
    }
    return marks;
  }

  function chips(values, cls, reverse) {
    const kind = cls === "ch-goods" ? " goods" : " order";
    const list = (values || []).map((q, i) => el("span", { class: "ch-chip" + kind + (q ? "" : " zero"), title: t("arrives_in", { n: i + 1 }), text: num(q) }));
    if (reverse) list.reverse();
    return el("div", { class: cls }, list);
  }

  function link(s) {
    const l = s.link;
    const known = !!l;
    return el("div", { class: "ch-link" + (known ? "" : " unknown") }, [
      known && l.goods ? chips(l.goods, "ch-goods", true) : el("div", { class: "ch-goods" }),
      el("div", { class: "ch-pipe" }, [el("span", { class: "ch-arrow", text: "▼" })]),
      known && l.orders ? chips(l.orders, "ch-orders", false) : el("div", { class: "ch-orders" }),
    ]);
  }

  function figure(label, value, cls) {
    return el("span", { class: "ch-fig " + (cls || "") }, [el("span", { class: "k", text: label }), el("b", { text: num(value) })]);
  }

  function box(s) {
    const mto = s.mode === "mto";
    const head = el("div", { class: "ch-head" }, [
      el("span", { class: "ch-name", text: BG.roleLabel(s.role, s.label) + (s.me ? " (" + t("you") + ")" : "") }),
      s.mode ? el("span", { class: "ch-mode", text: modeText(s) }) : "",
    ]);
    const parts = [head];
    if (s.figure) parts.push(el("div", { class: "ch-figs" }, [el("span", { class: "ch-fig" }, [s.figure])]));
    if (s.stock) {
      const figs = [figure(t("inventory"), s.stock.on_hand), figure(t("backlog"), s.stock.backlog, s.stock.backlog > 0 ? "warn" : "")];
      if (mto && s.stock.wip) figs.push(figure(t("chain_wip"), s.stock.wip));
      parts.push(el("div", { class: "ch-figs" }, figs));
    } else if (s.unshared) {
      parts.push(el("div", { class: "ch-figs none", text: t("chain_not_shared") }));
    }
    if (s.moved) parts.push(el("div", { class: "ch-moved", text: t("chain_moved", { received: num(s.moved.received), shipped: num(s.moved.shipped) }) }));
    const kinds = [];
    if (s.finishes) kinds.push(t("chain_finishes"));
    if (s.variants) kinds.push(t("chain_variants", { names: s.variants.map(BG.nameOf).join(", ") }));
    if (s.regions) kinds.push(t("chain_regions", { names: s.regions.map(BG.nameOf).join(", ") }));
    if (s.points) {
      parts.push(el("div", { class: "ch-points" }, s.points.map((p) =>
        el("span", { class: "ch-pt" + (p.backlog > 0 && !p.on_hand ? " warn" : "") }, [p.name + " ", el("b", { text: num(p.on_hand) }), p.backlog ? " −" + num(p.backlog) : ""]))));
    } else if (kinds.length) {
      parts.push(el("div", { class: "ch-kinds", text: kinds.join(" · ") }));
    }
    return el("div", { class: "ch-stage " + (s.mode || "neutral") + (s.me ? " me" : ""), "data-role": s.role }, parts);
  }

  function codpLine() {
    return el("div", { class: "ch-codp" }, [el("span", { text: t("chain_codp") })]);
  }

  function consumers(s, marks) {
    const out = [];
    if (marks.has("consumers:" + s.role)) out.push(codpLine());
    const m = s.market;
    out.push(el("div", { class: "ch-link consumers" }, [el("div", { class: "ch-goods" }), el("div", { class: "ch-pipe" }, [el("span", { class: "ch-arrow", text: "▼" })]), el("div", { class: "ch-orders" })]));
    const text = m ? t("chain_demand", { demand: num(m.demand) }) + (m.lost ? " · " + t("chain_lost", { lost: num(m.lost) }) : "") : "";
    out.push(el("div", { class: "ch-consumers" }, [el("span", { class: "ch-name", text: t("chain_consumers") }), text ? el("span", { class: "ch-moved", text }) : ""]));
    return out;
  }

  function branch(s, all, marks) {
    const parts = [];
    if (marks.has(s.role) && !s.supplier) parts.push(codpLine());
    if (s.supplier) {
      parts.push(link(s));
      if (marks.has(s.role)) parts.push(codpLine());
    }
    parts.push(box(s));
    const kids = all.filter((c) => c.supplier === s.role);
    if (s.consumer_facing) parts.push(...consumers(s, marks));
    if (kids.length) parts.push(el("div", { class: "ch-kids" }, kids.map((k) => branch(k, all, marks))));
    return el("div", { class: "ch-branch" }, parts);
  }

  /** The text version: one row per stage, what the picture shows. */
  function table(model, marks) {
    const na = t("chain_not_shared");
    const list = (xs) => (xs ? (xs.length ? xs.map(num).join(", ") : "0") : na);
    const rows = model.stages.map((s) => {
      const codp = marks.has(s.role) || marks.has("consumers:" + s.role);
      const kinds = [s.variants ? t("chain_variants", { names: s.variants.map(BG.nameOf).join(", ") }) : "", s.regions ? t("chain_regions", { names: s.regions.map(BG.nameOf).join(", ") }) : ""].filter(Boolean);
      if (s.points) kinds.push(s.points.map((p) => p.name + ": " + t("inventory") + " " + num(p.on_hand) + ", " + t("backlog") + " " + num(p.backlog)).join("; "));
      const cells = [
        el("th", { scope: "row", text: BG.roleLabel(s.role, s.label) + (s.me ? " (" + t("you") + ")" : "") + (kinds.length ? "; " + kinds.join("; ") : "") }),
        el("td", { text: modeText(s) + (codp ? "; " + (marks.has(s.role) ? t("chain_codp_above") : t("chain_codp_here")) : "") }),
      ];
      if (model.public) cells.push(el("td", { text: s.figure || "–" }));
      else cells.push(
        el("td", { text: s.stock ? num(s.stock.on_hand) : na }),
        el("td", { text: s.stock ? num(s.stock.backlog) : na }),
        el("td", { text: s.supplier ? list(s.link && s.link.goods) : "–" }),
        el("td", { text: s.supplier ? list(s.link && s.link.orders) : "–" }),
      );
      return el("tr", {}, cells);
    });
    const head = model.public ? [t("stage"), t("chain_works"), t("orders")]
      : [t("stage"), t("chain_works"), t("inventory"), t("backlog"), t("chain_goods"), t("chain_orders")];
    return el("div", { class: "sr-only" }, [el("table", {}, [
      el("caption", { text: model.caption }),
      el("thead", {}, [el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))]),
      el("tbody", {}, rows),
    ])]);
  }

  /** Draw ``model`` into ``box``; when its week moved on since the last drawing, what moved slides. */
  function draw(container, model) {
    if (!container || !model || !model.stages.length) return;
    const key = JSON.stringify(model);
    const before = last.get(container);
    if (before && before.key === key) return;
    const turned = before && before.week !== undefined && model.week !== before.week;
    last.set(container, { key, week: model.week });
    const marks = codpMarks(model.stages);
    const roots = model.stages.filter((s) => !s.supplier);
    const visual = el("div", { class: "ch-visual" + (turned ? " ch-turn" : ""), "aria-hidden": "true" }, [
      el("div", { class: "ch-kids top" }, roots.map((r) => branch(r, model.stages, marks))),
    ]);
    const items = model.public ? [] : [
      el("li", {}, [el("span", { class: "ch-chip goods", text: "4" }), " " + t("chain_legend_goods")]),
      el("li", {}, [el("span", { class: "ch-chip order", text: "4" }), " " + t("chain_legend_orders")]),
    ];
    if (model.stages.some((s) => s.mode === "mto")) items.push(el("li", {}, [el("span", { class: "ch-key mto" }), " " + t("chain_legend_mto")]));
    const legend = el("ul", { class: "ch-legend", "aria-hidden": "true" }, items);
    container.replaceChildren(visual, legend, table(model, marks));
  }

  return { draw, fromState, codpMarks };
})();
