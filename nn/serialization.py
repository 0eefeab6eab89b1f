"""Saving and loading models as JSON: architecture plus weights, exactly.

File layout (format version 1)::

    {"format": "chainrule.nn", "version": 1,
     "model": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 1], ...}},
     "training": true, "num_parameters": 65,
     "parameters": {"layers.0.neurons.0.w.0": 0.2314..., ...}}

Floats are written with ``repr``, the shortest text that reads back to the
same double, so a round trip is bit-exact. Nothing is pickled or evaluated:
a file can only name Module classes already registered (see module.py).
Saving writes a temporary file in the same directory, fsyncs it and renames
it over the target, so a failure part-way never damages the previous file.

Loading treats the file as untrusted input: it reads only a regular file (a
named pipe would block the reader forever), at most ``max_bytes`` of it (16
MiB by default), accepts only finite numbers and no repeated key, and builds
the architecture under a parameter budget of the number of weights the file
holds (plus a small margin), so no file can make ``load`` allocate much more
than it describes. Every fault is a ValueError naming the file; only a path
that cannot be opened at all (missing, not readable) gives ``open()``'s own
OSError.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import random
import stat
from typing import Any

from autograd._files import replace_atomically

from .module import Module, build_module, module_spec, parameter_budget

FORMAT = "chainrule.nn"
VERSION = 1
# The largest file nn.load reads unless told otherwise: 16 MiB holds some 350,000
# weights, far beyond what a scalar engine trains; pass max_bytes= for more.
MAX_BYTES = 16 * 2**20


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model``'s architecture and weights to ``path`` (atomically)."""
    path = os.fspath(path)
    if not isinstance(model, Module):
        raise TypeError(f"save: expected an nn.Module, got {type(model).__name__}")
    try:
        spec = module_spec(model)
        json.dumps(spec, allow_nan=False)  # every config value must be plain JSON
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: cannot save {type(model).__name__}: {err}") from None
    params: dict[str, float] = {}
    for name, p in model.named_parameters():
        if not math.isfinite(p.data):
            raise ValueError(f"{path}: cannot save: parameter {name!r} is {p.data!r}")
        params[name] = float(p.data)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": spec,
        "training": model.training,
        "num_parameters": len(params),
        "parameters": params,
    }
    _write_atomically(path, doc)


def _write_atomically(path: str, doc: dict[str, Any]) -> None:
    def dump(f) -> None:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")

    replace_atomically(path, dump, binary=False)


def write_bytes_atomically(path: str, data: bytes) -> None:
    """``data`` to ``path`` through ``replace_atomically`` (ONNX files, say)."""
    replace_atomically(path, lambda f: f.write(data), binary=True)


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"number {text[:40]} is out of the range of a float")
    return x


def _size_limit(max_bytes: Any) -> int:
    if max_bytes is None:
        return MAX_BYTES
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral):
        raise TypeError(f"load: max_bytes must be an int or None, got {max_bytes!r}")
    if max_bytes < 1:
        raise ValueError(f"load: max_bytes must be >= 1, got {max_bytes!r}")
    return int(max_bytes)


_KINDS = (  # what a path that is not a regular file is, for the error message
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(path: str, mode: int) -> None:
    """ValueError unless ``mode`` is a regular file's: reading a named pipe waits for a
    writer forever, and a device may never end, so neither is read at all."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path}: is a directory, not a model file")
    kind = next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")
    raise ValueError(f"{path}: not a regular file ({kind}), so not a model file")


def _read_limited(path: str, limit: int) -> bytes:
    """The file's bytes, refusing anything but a regular file of at most ``limit`` bytes.

    The path is checked before it is opened, and the open file is checked again
    (it may have been swapped in between); the open itself never blocks, since
    it asks for O_NONBLOCK, which a regular file ignores.
    """
    shown = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit:,} bytes"
    too_large = (
        f"{path}: the file is too large to be a model file (the limit is {shown}); "
        "pass max_bytes= to nn.load to allow more"
    )
    _check_regular(path, os.stat(path).st_mode)  # FileNotFoundError as open() gives it
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        _check_regular(path, info.st_mode)
        if info.st_size > limit:
            raise ValueError(too_large)
        raw = f.read(limit + 1)  # bounded all the same: the file may grow meanwhile
    if len(raw) > limit:
        raise ValueError(too_large)
    return raw


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a repeated key (json's default keeps the last
    silently, so two files that read alike could load different weights)."""
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        doc[key] = value
    return doc


def load(path: str | os.PathLike, *, max_bytes: int | None = None) -> Module:
    """Rebuild the model saved at ``path``; ValueError names the file and the problem.

    Files larger than ``max_bytes`` (default ``MAX_BYTES``, 16 MiB) are refused
    before they are read, and so is anything that is not a regular file (a
    directory, a named pipe, a device). A missing or unreadable file raises the
    OSError of ``open()`` (``FileNotFoundError``, ``PermissionError``);
    everything else that is wrong, a repeated JSON key included, is a
    ValueError. Loading leaves Python's ``random`` state as it was, even though
    building the layers draws initial weights that the saved ones then replace.
    """
    path = os.fspath(path)
    raw = _read_limited(path, _size_limit(max_bytes))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a chainrule model file (not UTF-8 text: {err})") from None
    try:
        doc = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as err:
        truncated = err.pos >= len(text.rstrip())
        why = "the file is truncated or empty" if truncated else "the file is corrupt"
        raise ValueError(
            f"{path}: not valid JSON ({why}): {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except (ValueError, RecursionError) as err:
        raise ValueError(f"{path}: not a valid chainrule model file: {err}") from None
    return _from_document(doc, path)


def _from_document(doc: Any, path: str) -> Module:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise ValueError(f"{path}: not a chainrule model file (format is {found!r}, "
                         f"expected {FORMAT!r})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path}: bad format version {version!r}")
    if version > VERSION:
        raise ValueError(
            f"{path}: format version {version} was written by a newer chainrule; "
            f"this one reads versions up to {VERSION}, so upgrade chainrule to load it"
        )
    missing = [k for k in ("model", "parameters") if k not in doc]
    if missing:
        raise ValueError(f"{path}: model file lacks {', '.join(repr(k) for k in missing)}")
    params = doc["parameters"]
    if not isinstance(params, dict):
        raise ValueError(f"{path}: 'parameters' must be an object, got {type(params).__name__}")
    count = doc.get("num_parameters", len(params))
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError(f"{path}: 'num_parameters' must be an int, got {count!r}")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{path}: parameter {name!r} must be a real number, got {value!r}")
        try:
            float(value)
        except OverflowError:  # an integer literal with hundreds of digits
            raise ValueError(
                f"{path}: parameter {name!r} is out of the range of a float"
            ) from None
    state = random.getstate()
    try:
        with parameter_budget(len(params)):  # the file's weights bound what may be built
            model = build_module(doc["model"])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    except RecursionError:
        raise ValueError(f"{path}: the model description is nested too deeply") from None
    finally:
        random.setstate(state)
    try:
        model.load_state_dict(params)
    except ValueError as err:
        raise ValueError(f"{path}: weights do not match the architecture: {err}") from None
    if count != len(params):  # names all match, so the count field was damaged or edited
        raise ValueError(f"{path}: the file declares {count} parameters but holds {len(params)}")
    training = doc.get("training", True)
    if not isinstance(training, bool):
        raise ValueError(f"{path}: 'training' must be true or false, got {training!r}")
    model.train(training)
    return model
