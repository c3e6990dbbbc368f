"""Every script in examples/ runs as written from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    # Any file an example writes goes in tmp_path (passed as its argument, and as TMPDIR).
    result = subprocess.run(
        [sys.executable, str(script.relative_to(REPO)), str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr


def test_the_readme_api_example_runs_and_prints_what_it_says() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.splitlines()) <= 15
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The comments in the example say what it prints; the library logs (if any) do not count.
    printed = [line for line in result.stdout.splitlines() if line.startswith("£")]
    promised = [line.split("# ", 1)[1].split(":")[0] for line in code.splitlines() if "# £" in line]
    assert printed == promised
