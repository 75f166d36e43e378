"""The structure report (bench/structure.py) finds circles, long functions and Redis uses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("structure", ROOT / "bench" / "structure.py")
assert _spec and _spec.loader
structure = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(structure)


def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return structure.modules(tmp_path)


def test_a_function_level_import_closes_a_circle(tmp_path: Path) -> None:
    known = _tree(
        tmp_path,
        {
            "game/__init__.py": "",
            "game/a.py": "from game import b\n",
            "game/b.py": "def f():\n    from game.a import x\n",
            "game/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from game import a\n",
            "web/__init__.py": "",
            "web/d.py": "from . import e\n",
            "web/e.py": "import game.c\n",
        },
    )
    assert structure.circles(known) == [["game.a", "game.b"]]


def test_long_functions_and_redis_outside_the_store(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    known = _tree(
        tmp_path,
        {
            "game/__init__.py": "",
            "game/long.py": f"def long():\n{body}\n\ndef short():\n    pass\n",
            "web/__init__.py": "",
            "web/store/__init__.py": "import redis\nclient = redis.Redis()\n",
            "web/play/rounds.py": "def f(store):\n    return store.r.get('k')\n",
        },
    )
    assert structure.long_functions(known) == [("game.long:1 long", 81)]
    assert structure.redis_outside_store(known) == ["web.play.rounds:2"]


def test_the_code_has_no_import_circle() -> None:
    """game/ and web/ import in one direction: no module imports itself round a loop."""
    assert structure.circles(structure.modules()) == []
