"""The programs in docs/model.md run as written and pass ``mypy --strict``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
# The blocks that are whole programs (the first block only lists imports).
PROGRAMS = [
    block
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    if "with Ledger" in block
]


def test_the_model_guide_has_a_program() -> None:
    assert PROGRAMS


@pytest.mark.parametrize("code", PROGRAMS, ids=lambda code: code.splitlines()[0])
def test_each_program_runs_and_type_checks_strictly(code: str, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(code, encoding="utf-8")
    out, err, status = api.run(["--strict", "--no-incremental", str(program)])
    assert status == 0, out + err
    exec(compile(code, str(DOC), "exec"), {})
