"""Load-test ``discourse serve`` on loopback and write reports/serve.md (see discourse/serve/loadtest.py)."""

from __future__ import annotations

import sys

from discourse.serve.loadtest import main

if __name__ == "__main__":
    sys.exit(main())
