"""numpy in, plain numbers out: arrays become lists and numpy scalars Python numbers.

``fit``, ``predict``, ``evaluate``, the data helpers and the losses pass what
they are given through ``plain`` first, so a numpy array or a list of numpy rows
trains exactly as the same numbers in lists do (``ndarray.tolist()`` gives the
Python float or int of every element, bit for bit) and no numpy type reaches the
engine or the compiled code.

numpy is never imported here: if it is not in ``sys.modules``, nothing can be a
numpy object, and the input is returned untouched at the cost of one dict lookup.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["plain"]

# Deep enough for every input nn takes: a data set (rows of numbers), a batch of
# targets (rows of one-hot numbers), a batch of logit lists. Bounded, so a
# pathologically nested list costs no recursion beyond this.
_DEPTH = 3
# Types that hold no numpy object inside them.
_LEAVES = {float, int, bool, str, type(None)}


def plain(value: Any, depth: int = _DEPTH) -> Any:
    """``value`` with numpy arrays as lists and numpy scalars as int/float/bool.

    Lists and tuples are looked into ``depth`` levels down; one that holds no
    numpy object is returned as it is (the same object), one that does comes
    back as a new list. Everything else (Values, numbers, strings) is returned
    unchanged.
    """
    numpy = sys.modules.get("numpy")
    if numpy is None:
        return value
    return _plain(value, (numpy.ndarray, numpy.generic), depth)


def _plain(value: Any, kinds: tuple[type, ...], depth: int) -> Any:
    if isinstance(value, kinds):
        return value.tolist()
    if depth <= 0 or type(value) not in (list, tuple):
        return value
    if set(map(type, value)) <= _LEAVES:  # a row of plain numbers (C speed): nothing to do
        return value
    out = None
    for i, item in enumerate(value):
        if isinstance(item, kinds) or type(item) in (list, tuple):
            new = _plain(item, kinds, depth - 1)
            if new is not item:
                if out is None:
                    out = list(value)
                out[i] = new
    return value if out is None else out
