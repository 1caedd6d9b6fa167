"""The shape of the house: no import circle between the modules of pipeline/ and models/, and no
module over the size a reader takes in at once.

Imports are read from the source (ast), not by importing: every `import` and `from … import`
anywhere in a module counts, at the top, inside a function (a lazy import) or under
`if TYPE_CHECKING:`, and so does `__import__("…")` or `importlib.import_module("…")` of a
name written out. A lazy or type-only import still makes one module depend on the other; it
only postpones the moment Python notices a circle, so it may not be used to hide one.

`from pipeline.chain import links` depends on the module `pipeline.chain.links`; `from
pipeline.chain.links import build_chain` on `pipeline.chain.links` too. Importing a module runs
the `__init__` of each package above it first, so a module also depends on those packages
(`pipeline.store.schema` brings in `pipeline.store`, which gathers its modules' names) — except
on the packages it sits in itself: Python has started those before it, and a package gathering
names from its own modules is the ordinary shape, not a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "models")
# The house rule is about 500 lines a module; 520 leaves room for a docstring's last lines
# without letting a module grow on.
MAX_LINES = 520


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The modules of the house that the module at `path` (called `name`) imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, one level up per dot
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([base] if base else [])])
            # `from a import b`: b is either a submodule of a or a name defined in a
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        elif isinstance(node, ast.Call) and _names_import(node.func) and node.args and isinstance(node.args[0], ast.Constant):
            targets = [str(node.args[0].value)]
        else:
            continue
        for target in targets:
            # `import a.b.c` names a.b.c; anything outside the house (or a name in it) is not a module here
            while target and target not in known:
                target = target.rpartition(".")[0]
            while target:
                if target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def _names_import(func: ast.expr) -> bool:
    """`__import__`, `import_module` or `importlib.import_module`."""
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imported(path, name, known) for name, path in mods.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle as the path that closes it: depth first, a module met again on the
    current path closes one."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_reader_sees_imports_of_every_kind(tmp_path: Path) -> None:
    """Top-level, lazy, type-only, relative and named dynamic imports, and submodules named by `from`, all count."""
    pkg = tmp_path / "pipeline" / "stage"
    pkg.mkdir(parents=True)
    (tmp_path / "pipeline" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text('"""A stage."""\n')
    (pkg / "a.py").write_text("from pipeline.stage import b\nimport json\n")
    (pkg / "b.py").write_text("def f():\n    from pipeline.stage.c import g\n    return g\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import x\n")
    (pkg / "d.py").write_text("import pipeline.stage.a as a\nfrom . import b\n")
    (pkg / "e.py").write_text("import importlib\n\ndef f():\n    __import__('pipeline.stage.d')\n    importlib.import_module('pipeline.stage.a')\n")
    known = {"pipeline", "pipeline.stage", *(f"pipeline.stage.{m}" for m in "abcde")}
    edges = {
        n: imported(pkg / f"{n.rsplit('.', 1)[1]}.py", n, known) for n in sorted(known) if n.count(".") == 2
    }
    assert edges == {
        "pipeline.stage.a": {"pipeline.stage.b"},
        "pipeline.stage.b": {"pipeline.stage.c"},
        "pipeline.stage.c": {"pipeline.stage.a"},
        "pipeline.stage.d": {"pipeline.stage.a", "pipeline.stage.b"},
        "pipeline.stage.e": {"pipeline.stage.a", "pipeline.stage.d"},
    }
    # from outside the package, a module of it brings the package in too
    (tmp_path / "pipeline" / "other.py").write_text("from pipeline.stage.a import x\n")
    assert imported(tmp_path / "pipeline" / "other.py", "pipeline.other", known | {"pipeline.other"}) == {"pipeline.stage.a", "pipeline.stage"}
    assert circles(edges) == [["pipeline.stage.a", "pipeline.stage.b", "pipeline.stage.c", "pipeline.stage.a"]]
    assert circles({**edges, "pipeline.stage.c": set()}) == []


def test_the_house_reads_its_own_imports() -> None:
    """The graph is not empty by accident: the stages' known dependencies are found."""
    edges = graph()
    assert "pipeline.text.normalise" in edges["pipeline.run"]
    assert "pipeline.chain.links" in edges["pipeline.chain.audit"]
    assert "models" in edges["pipeline.chain.links"]
    assert "pipeline.cli.chain" in edges["pipeline.cli.main"]


def test_no_import_circle() -> None:
    found = circles(graph())
    assert not found, "import circles:\n" + "\n".join(" → ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_the_limit(name: str) -> None:
    path = modules()[name]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it where it reads well"
