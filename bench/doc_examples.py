"""The command-line examples in the docs, as the commands print them today.

``python bench/doc_examples.py [--write] [FILE ...]`` finds every fenced block in the
Markdown files (default: docs/SCENARIOS.md) whose first line is ``$ python -m game ...``,
runs that command and compares its output with the rest of the block. Without
``--write`` it lists the blocks that differ (exit 1 when any do); with ``--write`` it
puts the fresh output in. ``tests/test_doc_examples.py`` runs the check.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = (ROOT / "docs" / "SCENARIOS.md",)
_BLOCK = re.compile(r"^```\n\$ (python -m game [^\n]*)\n(.*?)^```$", re.M | re.S)


@dataclass(frozen=True)
class Example:
    """One example block: the command and the output the file shows for it."""

    command: str
    shown: str
    start: int  # offsets of the output within the file's text
    end: int


def examples(text: str) -> list[Example]:
    """The ``$ python -m game`` blocks of a Markdown text, in order."""
    return [Example(m.group(1), m.group(2), m.start(2), m.end(2)) for m in _BLOCK.finditer(text)]


def output(command: str) -> str:
    """What ``command`` (``python -m game ...``) prints, run in this process."""
    from game.analysis.cli import main

    argv = shlex.split(command)[3:]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"{command!r} exited with {code}")
    return out.getvalue()


def refresh(text: str) -> tuple[str, list[str]]:
    """``text`` with every example's output run afresh, and the commands whose output changed."""
    changed = []
    for ex in reversed(examples(text)):
        fresh = output(ex.command)
        if fresh != ex.shown:
            changed.append(ex.command)
            text = text[: ex.start] + fresh + text[ex.end :]
    return text, changed[::-1]


def main(argv: list[str] | None = None) -> int:
    """Check (or with ``--write`` refresh) the examples; exit 1 when a check finds a stale one."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES))
    p.add_argument("--write", action="store_true", help="put the fresh output into the files")
    args = p.parse_args(argv)
    stale = False
    for path in args.files:
        text, changed = refresh(path.read_text(encoding="utf-8"))
        for command in changed:
            print(f"{path.name}: {'refreshed' if args.write else 'stale'}: $ {command}")
        if changed and args.write:
            path.write_text(text, encoding="utf-8")
        stale = stale or bool(changed)
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
