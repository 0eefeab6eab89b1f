"""chainrule's version, in one place.

pyproject.toml reads ``__version__`` at build time (setuptools' dynamic version,
``attr``), and ``autograd.__version__`` and ``nn.__version__`` re-export it, so
the three cannot disagree and no installed metadata is needed to know it. Keep
the values plain literals: setuptools reads this file without importing autograd.
"""

__version__ = "0.1.0"

# Marks this autograd as chainrule's engine. The HIPS autograd on PyPI has the same
# top-level name; ``nn`` checks for this marker to tell the two apart.
__chainrule__ = True
