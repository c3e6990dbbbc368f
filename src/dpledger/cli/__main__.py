"""``python -m dpledger.cli``: the same as the ``dpledger`` command."""

from dpledger.cli import main

raise SystemExit(main())
