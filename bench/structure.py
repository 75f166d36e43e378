"""The three structure figures of the code: import circles, long functions, Redis outside the store.

``python bench/structure.py`` prints, for the modules of ``game/`` and ``web/``:

1. **import circles**: groups of modules that import each other, directly or round a
   loop (strongly connected components of the import graph). Every import counts,
   also one made inside a function; only imports under ``if TYPE_CHECKING:`` do not
   (they never run).
2. **long functions**: functions and methods over ``MAX_LINES`` lines (decorators
   excluded, docstring included).
3. **Redis outside the store**: lines outside the store that touch a Redis client: the
   store's client attribute (``store.r``) or the ``redis`` package itself.

``--quiet`` prints the three counts only. The exit status is 0 either way: this is a
report, not a gate.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("game", "web")
MAX_LINES = 80
STORE = ("web.store",)  # the store: the module, or the package and everything in it


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of ``PACKAGES``: dotted name -> file (a package is its ``__init__``)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that may run (wherever it is), none under ``if TYPE_CHECKING``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` is or lies in."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules ``module`` imports."""
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            found = _resolve(target, known)
            if found and found != module:
                out.add(found)
    return out


def circles(known: dict[str, Path]) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module (Tarjan)."""
    graph = {m: sorted(imports_of(m, p, known)) for m, p in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in graph[m]:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph)))
    try:
        for m in graph:
            if m not in index:
                visit(m)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def long_functions(known: dict[str, Path], limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``module:line name`` and length of every function longer than ``limit`` lines."""
    out = []
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    out.append((f"{module}:{node.lineno} {node.name}", length))
    return sorted(out)


def _in_store(module: str) -> bool:
    return any(module == s or module.startswith(s + ".") for s in STORE)


def redis_outside_store(known: dict[str, Path]) -> list[str]:
    """``module:line`` of every line outside the store that touches a Redis client."""
    out = set()
    for module, path in known.items():
        if _in_store(module):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            hit = (
                (isinstance(node, ast.Attribute) and node.attr == "r")
                or (isinstance(node, ast.Name) and node.id == "redis")
                or (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "redis" for a in node.names))
                or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "redis")
            )
            if hit:
                out.add((module, node.lineno))
    return [f"{m}:{line}" for m, line in sorted(out)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quiet", action="store_true", help="print the three counts only")
    args = parser.parse_args(argv)
    known = modules()
    rings, longs, leaks = circles(known), long_functions(known), redis_outside_store(known)
    print(f"import circles: {len(rings)} ({sum(map(len, rings))} modules)")
    if not args.quiet:
        for ring in rings:
            print("  " + " <-> ".join(ring))
    print(f"functions over {MAX_LINES} lines: {len(longs)}")
    if not args.quiet:
        for where, length in longs:
            print(f"  {where} ({length} lines)")
    print(f"Redis client uses outside the store: {len(leaks)}")
    if not args.quiet:
        for where in leaks:
            print(f"  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
