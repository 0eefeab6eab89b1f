"""``python -m nn``: the command line (see nn/cli/); also the ``chainrule`` script."""

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
