"""Write one benchmark's section of docs/PERFORMANCE.md, leaving the other sections as they are."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


def write_section(title: str, text: str, doc: Path = DOC, new_at_top: bool = False) -> None:
    """Replace the ``## <title>`` section of ``doc`` with ``text`` (which starts with that
    heading); a section not there yet goes before the first section (``new_at_top``) or last."""
    lines = doc.read_text(encoding="utf-8").splitlines() if doc.exists() else ["# Performance", ""]
    section = text.rstrip("\n").splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip() == f"## {title}"), None)
    if start is None:
        if new_at_top:
            first = next((k for k, line in enumerate(lines) if line.startswith("## ")), len(lines))
            lines[first:first] = [*section, ""]
        else:
            lines += ["", *section]
    else:
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines[start:end] = [*section, ""] if end < len(lines) else section
    doc.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
