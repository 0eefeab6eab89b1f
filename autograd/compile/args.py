"""Arguments: their structure as a hashable key, and the leaves in order.

A call's arguments are flattened into numbers and Values. The key records the
nesting (lists, tuples, namedtuples, dicts and keyword names), the type of each
leaf (float, int, bool, a numpy scalar type; Value or Constant) and which Value
positions hold the same object, so two calls share a trace only if fn sees the
same shapes, types and aliasing. numpy arrays are read as the nested lists
``tolist()`` gives, without importing numpy.
"""

from __future__ import annotations

import numbers
from typing import Any

from ..value import Value

_LIST, _TUPLE, _DICT, _NAMED, _ARRAY = "L", "T", "D", "N", "A"


def _is_numpy_array(x: Any) -> bool:
    return type(x).__module__ == "numpy" and hasattr(x, "tolist") and hasattr(x, "shape")


def flatten(args: tuple, kwargs: dict) -> tuple[tuple, list, list]:
    """(key, numbers, values) for a call ``fn(*args, **kwargs)``."""
    nums: list = []
    vals: list[Value] = []
    key = [_walk(args, nums, vals)]
    if kwargs:
        key.append(tuple(sorted(kwargs)))
        key.append(tuple(_walk_one(kwargs[k], nums, vals) for k in sorted(kwargs)))
    if len(vals) > 1:  # aliasing: where each Value was first seen
        first: dict[int, int] = {}
        key.append(tuple(first.setdefault(id(v), i) for i, v in enumerate(vals)))
    return tuple(key), nums, vals


def _walk(xs: Any, nums: list, vals: list) -> tuple:
    return tuple(_walk_one(x, nums, vals) for x in xs)


def _walk_one(x: Any, nums: list, vals: list) -> Any:
    cls = x.__class__
    if cls is float or cls is int:
        nums.append(x)
        return cls
    if isinstance(x, Value):
        vals.append(x)
        return "C" if x.is_constant else "V"
    if cls is list:
        return (_LIST, _walk(x, nums, vals))
    if isinstance(x, numbers.Real):  # bool, Fraction, numpy scalars, ...
        nums.append(x)
        return cls
    if isinstance(x, tuple):
        if cls is tuple:
            return (_TUPLE, _walk(x, nums, vals))
        if hasattr(x, "_fields"):
            return (_NAMED, cls, _walk(x, nums, vals))
    if isinstance(x, list):
        return (_LIST, _walk(x, nums, vals))
    if isinstance(x, dict):
        keys = tuple(x)
        for k in keys:
            if isinstance(k, Value):
                raise TypeError(
                    "autograd.compile: a dict argument keyed by Values is not supported; "
                    f"got key {k!r}"
                )
        try:
            hash(keys)
        except TypeError:
            raise TypeError(
                f"autograd.compile: dict argument keys must be hashable: {keys!r}"
            ) from None
        return (_DICT, cls, keys, _walk(x.values(), nums, vals))
    if _is_numpy_array(x):
        return (_ARRAY, _walk_one(x.tolist(), nums, vals))
    shown = repr(x) if len(repr(x)) <= 60 else f"{repr(x)[:57]}..."
    raise TypeError(
        "autograd.compile: arguments must be numbers, Values, Constants, or lists, tuples, "
        f"namedtuples and dicts of them (numpy arrays too); got {shown} ({type(x).__name__})"
    )


def rebuild(key: tuple, nums: list, vals: list) -> tuple[tuple, dict]:
    """The arguments with the same structure, from new leaves ``nums`` and ``vals``."""
    it_n, it_v = iter(nums), iter(vals)
    args = tuple(_make(k, it_n, it_v) for k in key[0])
    kwargs = {}
    if len(key) > 1 and isinstance(key[1], tuple) and key[1] and isinstance(key[1][0], str):
        kwargs = {name: _make(k, it_n, it_v) for name, k in zip(key[1], key[2], strict=True)}
    return args, kwargs


def _make(k: Any, it_n: Any, it_v: Any) -> Any:
    if k.__class__ is str and k in ("V", "C"):
        return next(it_v)
    if isinstance(k, type):
        return next(it_n)
    tag = k[0]
    if tag == _LIST:
        return [_make(s, it_n, it_v) for s in k[1]]
    if tag == _TUPLE:
        return tuple(_make(s, it_n, it_v) for s in k[1])
    if tag == _NAMED:
        return k[1](*(_make(s, it_n, it_v) for s in k[2]))
    if tag == _DICT:
        return k[1](zip(k[2], (_make(s, it_n, it_v) for s in k[3]), strict=True))
    return _make(k[1], it_n, it_v)  # _ARRAY: read as lists


def top_level_numbers(key: tuple, names: list[str]) -> dict[int, str]:
    """Flat number index -> parameter name, for numbers passed directly."""
    out: dict[int, str] = {}
    k = 0
    for i, leaf in enumerate(key[0]):
        if isinstance(leaf, type):
            if i < len(names):
                out[k] = names[i]
            k += 1
        else:
            k += _count_numbers(leaf)
    if len(key) > 1 and isinstance(key[1], tuple) and key[1] and isinstance(key[1][0], str):
        for name, leaf in zip(key[1], key[2], strict=True):
            if isinstance(leaf, type):
                out[k] = name
                k += 1
            else:
                k += _count_numbers(leaf)
    return out


def _count_numbers(k: Any) -> int:
    if isinstance(k, type):
        return 1
    if k.__class__ is str:
        return 0
    tag = k[0]
    inner = {_LIST: 1, _TUPLE: 1, _NAMED: 2, _DICT: 3}.get(tag)
    if inner is None:
        return _count_numbers(k[1])
    return sum(_count_numbers(s) for s in k[inner])
