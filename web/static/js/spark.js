/* A small dependency-free SVG line chart for the player's last weeks (keeps the phone page light). */
"use strict";
const Spark = (() => {
  const NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  }
  /**
   * Draw series [{label, values, color, dash}] over the x labels into container.
   * The chart has a text alternative: its title lists the last value of each series.
   */
  function draw(container, xs, series, title) {
    container.textContent = "";
    const W = 320, H = 140, L = 30, R = 8, T = 8, B = 22;
    const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    const max = Math.max(4, ...all);
    const n = xs.length;
    const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "spark-svg" });
    const ticks = [0, Math.round(max / 2), max];
    for (const v of ticks) {
      root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
      const lab = svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "tick" });
      lab.textContent = v;
      root.append(lab);
    }
    if (n > 0) {
      for (const i of [0, n - 1]) {
        const lab = svg("text", { x: x(i), y: H - 6, "text-anchor": i === 0 ? "start" : "end", class: "tick" });
        lab.textContent = xs[i];
        root.append(lab);
      }
    }
    for (const s of series) {
      const pts = s.values.map((v, i) => (v === null || v === undefined ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
      const d = pts.filter(Boolean).map((p, i) => (i ? "L" : "M") + p).join(" ");
      if (!d) continue;
      root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2.5, "stroke-dasharray": s.dash || "", "stroke-linejoin": "round" }));
    }
    container.append(root);
    const legend = document.createElement("ul");
    legend.className = "legend";
    for (const s of series) {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch" + (s.dash ? " dashed" : "");
      sw.style.borderColor = s.color;
      li.append(sw, document.createTextNode(s.label));
      legend.append(li);
    }
    container.append(legend);
  }
  return { draw };
})();
