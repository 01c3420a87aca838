"""`python -m authgate.delivery` is `authgate mail` (delivery/mailview.py), kept for old scripts."""

from __future__ import annotations

import sys

from authgate.cli import main

if __name__ == "__main__":
    main(["mail", *sys.argv[1:]])
