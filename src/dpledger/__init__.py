"""dpledger: an event-sourced, double-entry accounting core for Direct Payment managed accounts."""

from dpledger.domain.money import Money

__version__ = "0.1.0"

__all__ = ["Money", "__version__"]
