"""The folders are the architecture: these tests keep the dependencies pointing inwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "dpledger"
IO_MODULES = {"os", "pathlib", "sqlite3", "socket", "subprocess", "shutil", "io", "psycopg"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    return sorted((SRC / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("domain"), ids=lambda p: p.name)
def test_the_domain_imports_no_adapter_and_does_no_io(path: Path) -> None:
    imports = _imports(path)
    inward = {
        name
        for name in imports
        if name.startswith("dpledger.") and not name.startswith("dpledger.domain")
    }
    assert not inward, f"{path.name} imports {inward}: the domain must not depend outwards"
    assert not imports & IO_MODULES, f"{path.name} imports I/O modules {imports & IO_MODULES}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert not [c for c in calls if c.func.id in {"open", "print", "input"}]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: p.name)
def test_adapters_do_not_import_the_facade_or_the_cli(path: Path) -> None:
    imports = _imports(path)
    assert not {"dpledger.ledger", "dpledger.cli", "dpledger.demo"} & imports


@pytest.mark.parametrize("path", _modules("projections"), ids=lambda p: p.name)
def test_projections_only_read_the_domain(path: Path) -> None:
    imports = _imports(path)
    assert not {i for i in imports if i.startswith(("dpledger.ledger", "dpledger.cli"))}


# ---------------------------------------------------------------------------- import cycles
def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import in ``node``, at module level or inside functions and classes, except those
    under ``if TYPE_CHECKING:`` (never run, so never part of a cycle)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            found += _import_nodes(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            found += _import_nodes(child)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports. ``from pkg import name`` imports the submodule
    ``pkg.name`` when there is one, else ``pkg`` itself; relative imports are resolved."""
    paths = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module = alias.name
                    while module and module not in paths:
                        module = module.rpartition(".")[0]
                    if module:
                        targets.add(module)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in paths:
                    targets.add(submodule)
                elif base in paths:
                    targets.add(base)
        targets.discard(name)
        graph[name] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules that import each other, directly or not (each strongly connected component
    of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _cycle_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    # A shortest way from the component's first module back to itself, to print.
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")


def test_there_are_no_import_cycles() -> None:
    graph = import_graph(SRC)
    cycles = [
        f"{', '.join(members)}: {' -> '.join(_cycle_path(graph, set(members)))}"
        for members in import_cycles(graph)
    ]
    assert not cycles, "modules that import each other:\n" + "\n".join(cycles)


def test_the_cycle_finder_sees_function_level_and_submodule_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from pkg import c\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n"
    )
    (package / "e.py").write_text("from . import d\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.d"] == set()  # the TYPE_CHECKING import is not run
    assert graph["pkg.e"] == {"pkg.d"}
    assert import_cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert _cycle_path(graph, {"pkg.a", "pkg.c", "pkg.sub.b"}) == [
        "pkg.a",
        "pkg.sub.b",
        "pkg.c",
        "pkg.a",
    ]


# ---------------------------------------------------------------------------- sizes
MAX_CLASS_LINES = 500
MAX_FILE_LINES = 800


def _sizes() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    files, classes = [], []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(SRC.parent))
        files.append((len(text.splitlines()), where))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                assert node.end_lineno is not None
                classes.append((node.end_lineno - first + 1, f"{where}:{node.name}"))
    return sorted(files, reverse=True), sorted(classes, reverse=True)


def test_no_class_is_over_500_lines() -> None:
    _, classes = _sizes()
    big = [f"{name} ({lines} lines)" for lines, name in classes if lines > MAX_CLASS_LINES]
    assert not big, f"classes over {MAX_CLASS_LINES} lines, split by concern: {big}"


def test_no_file_is_over_800_lines() -> None:
    files, _ = _sizes()
    big = [f"{name} ({lines} lines)" for lines, name in files if lines > MAX_FILE_LINES]
    assert not big, f"files over {MAX_FILE_LINES} lines, split by concern: {big}"
