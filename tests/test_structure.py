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


#: web's layers, top to bottom: a module imports only from its own layer or the ones under it
LAYERS = (("web.realtime", "web.http"), ("web.play",), ("web.store",))


def _layer(module: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in layer):
            return i
    return None


def test_web_imports_only_downwards_through_its_layers() -> None:
    """The store imports nothing of play, play nothing of realtime or http (docs/ARCHITECTURE.md);
    the game imports nothing of web."""
    known = structure.modules()
    upward = []
    for module, path in known.items():
        for target in structure.imports_of(module, path, known):
            here, there = _layer(module), _layer(target)
            if (here is not None and there is not None and there < here) or (
                module.startswith("game") and target.startswith("web")
            ):
                upward.append((module, target))
    assert upward == []
