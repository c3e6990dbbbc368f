"""dpledger's structured log: one line per command (account id, event, amount; never names).

A library must not print unless its host asks: when the application has configured structlog,
dpledger logs through that configuration; otherwise it logs key=value lines to the standard
``logging`` logger ``"dpledger"``, which is silent until the host enables it.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

_stdlib = logging.getLogger("dpledger")
_stdlib.addHandler(logging.NullHandler())
_fallback: Any = structlog.wrap_logger(
    _stdlib,
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)


def get_logger() -> Any:
    """The logger for this call: the host's structlog set-up if any, else stdlib ``dpledger``."""
    if structlog.is_configured():
        return structlog.get_logger("dpledger")
    return _fallback
