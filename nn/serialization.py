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
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import stat
import tempfile
from typing import Any

from .module import Module, build_module, module_spec

FORMAT = "chainrule.nn"
VERSION = 1


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
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; best effort (not every OS allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def load(path: str | os.PathLike) -> Module:
    """Rebuild the model saved at ``path``; ValueError names the file and the problem.

    Loading leaves Python's ``random`` state as it was, even though building
    the layers draws initial weights that the saved ones then replace.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a chainrule model file (not UTF-8 text: {err})") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
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
    state = random.getstate()
    try:
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
    count = doc.get("num_parameters", len(params))
    if count != len(params):  # names all match, so the count field was damaged or edited
        raise ValueError(f"{path}: the file declares {count} parameters but holds {len(params)}")
    training = doc.get("training", True)
    if not isinstance(training, bool):
        raise ValueError(f"{path}: 'training' must be true or false, got {training!r}")
    model.train(training)
    return model
