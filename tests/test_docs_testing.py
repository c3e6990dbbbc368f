"""The example in docs/testing.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def test_the_property_test_in_the_testing_guide_runs_and_passes() -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    test = namespace["test_an_approved_invoice_is_paid_only_when_the_bank_covers_it"]
    assert callable(test)
    test()
