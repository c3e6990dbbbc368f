"""Shared test set-up: hypothesis profiles and quiet logs.

``HYPOTHESIS_PROFILE=ci`` (the default, used by ``make test``) is quick; ``nightly`` (``make
nightly``) searches far deeper. Failures print the seed to reproduce them.
"""

from __future__ import annotations

import logging
import os

import structlog
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "nightly",
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Commands log at info; tests only need warnings and worse.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
