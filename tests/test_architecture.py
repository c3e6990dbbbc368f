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
