"""Every python example in the README and docs/ passes ``mypy --strict`` as written.

A block that is a whole program is checked as it is. A fragment (it uses a ``ledger`` the page
set up before) is checked after a typed preamble that opens that ledger, with only undefined
names forgiven. docs/testing.md is one program in three blocks, checked (and run) whole by
tests/test_docs_testing.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PREAMBLE = "from dpledger import Ledger\n\nledger: Ledger = Ledger.in_memory()\n"


def _blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        if page.name == "testing.md":
            continue
        text = page.read_text(encoding="utf-8")
        for number, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.DOTALL), 1):
            found.append((f"{page.name}#{number}", code))
    return found


BLOCKS = _blocks()


def _mypy(files: list[Path], *extra: str) -> dict[str, list[str]]:
    """The errors mypy --strict reports, by file name (one run for all, which is quick)."""
    out, err, _ = api.run(["--strict", *extra, *(str(f) for f in files)])
    errors: dict[str, list[str]] = {f.name: [] for f in files}
    for line in (out + err).splitlines():
        name = Path(line.split(":", 1)[0]).name
        if name in errors and ": error:" in line:
            errors[name].append(line)
    return errors


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each block's errors: as written; a fragment's (only undefined names reported) again
    after a preamble that opens ``ledger``, with undefined names forgiven."""
    folder = tmp_path_factory.mktemp("examples")
    files = []
    for number, (_, code) in enumerate(BLOCKS):
        files.append(folder / f"example_{number}.py")
        files[-1].write_text(code, encoding="utf-8")
    errors = _mypy(files, "--cache-dir", str(folder / "cache"))
    fragments = [
        f for f in files if errors[f.name] and all("[name-defined]" in e for e in errors[f.name])
    ]
    for fragment in fragments:
        fragment.write_text(PREAMBLE + fragment.read_text(encoding="utf-8"), encoding="utf-8")
    if fragments:
        forgiven = ["--disable-error-code", "name-defined", "--cache-dir", str(folder / "cache")]
        errors.update(_mypy(fragments, *forgiven))
    return {name: errors[f"example_{number}.py"] for number, (name, _) in enumerate(BLOCKS)}


def test_the_readme_and_docs_have_python_examples() -> None:
    assert any(name.startswith("README") for name, _ in BLOCKS)


@pytest.mark.parametrize("name", [name for name, _ in BLOCKS])
def test_each_example_passes_mypy_strict(name: str, mypy_errors: dict[str, list[str]]) -> None:
    assert not mypy_errors[name], "\n".join(mypy_errors[name])


def test_the_typed_idiom_is_what_catches_a_dict_of_mixed_keywords(tmp_path: Path) -> None:
    # Why the README passes actor= itself: a dict of mixed values spread with ** fails --strict.
    program = tmp_path / "who.py"
    program.write_text(
        "from datetime import date\nfrom dpledger import Ledger\n\n"
        "with Ledger.in_memory() as ledger:\n"
        '    who = {"actor": "officer-7", "effective_date": date(2025, 4, 7)}\n'
        '    ledger.receive_council_payment("DP-1", amount="1.00", **who)\n',
        encoding="utf-8",
    )
    out, _, status = api.run(["--strict", "--no-incremental", str(program)])
    assert status == 1, out
    assert "arg-type" in out
