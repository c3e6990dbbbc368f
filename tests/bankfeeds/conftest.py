"""Where the bank-feed parser tests find their files.

The real-format samples live beside the repository, in ``../shared/data/bankfeeds`` (see its
``SOURCES.md``); they are read in place, never copied. In a clone without them, the tests that need
them are skipped. Hand-made files are in ``fixtures/`` next to this file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO_ROOT.parent / "shared" / "data" / "bankfeeds"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shared samples folder; skips the test when it is absent."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(
            f"the shared bank-feed samples are not at {SAMPLES_DIR} "
            "(they sit beside the repository, in ../shared/data/bankfeeds)"
        )
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The hand-made fixture files of these tests."""
    return FIXTURES_DIR


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write bytes to a file in the test's folder and return its path."""

    def writer(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return writer
