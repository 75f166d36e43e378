// WCAG contrast of the visible text matched by the given selectors against its nearest opaque
// background; returns the failures (below 4.5:1, or 3:1 for large text).
(selectors) => {
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const bg = (n) => {
    for (; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const sel of selectors) {
    for (const n of document.querySelectorAll(sel)) {
      if (n.offsetParent === null || !(n.textContent || "").trim()) continue;
      const style = getComputedStyle(n);
      const fg = rgb(style.color).slice(0, 3);
      const [a, b] = [lum(fg), lum(bg(n))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${sel}: ${ratio.toFixed(2)} (${n.textContent.trim().slice(0, 30)})`);
    }
  }
  return out;
}
