"""``python -m autograd.viz``: see ``autograd.viz.cli``."""

import sys

from autograd.viz.cli import main

sys.exit(main())
