"""Accessibility checked by the standard tool: axe-core (vendored from the npm registry in
``web/static/vendor``) runs in the page; serious and critical violations fail the test."""

from __future__ import annotations

from typing import Any

AXE = "/static/vendor/axe-core-4.14.1.min.js"
FAIL_IMPACTS = ("serious", "critical")

RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Any) -> list[str]:
    """The page's serious and critical axe-core violations as readable lines (empty: none).
    The script is served by the game itself, so the pages' Content-Security-Policy allows it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE)
    found = page.evaluate(RUN)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found if v["impact"] in FAIL_IMPACTS]
