"""Fail early, and in one line, when ``import autograd`` is not chainrule's engine.

The HIPS autograd on PyPI has the same top-level name. pip installs both into one
``autograd/`` folder without a word (``pip check`` sees nothing wrong): whichever
was installed last owns ``autograd/__init__.py``, and uninstalling HIPS deletes
that file, chainrule's too. nn would then fail deep inside an import with
"cannot import name 'Value'". ``nn/__init__.py`` imports this module first, so
``import nn``, ``python -m nn`` and the ``chainrule`` script raise an
``EngineClashError`` (an ImportError) that names the clash and the fix instead,
and, if nothing catches it, print it as one line without a traceback.

The fix names how this chainrule was installed (pip's direct_url.json): from a
wheel file, reinstall that wheel; from a clone, reinstall the clone (editable if
it was); only an install from the package index is reinstalled from the index.

What cannot be done here: with the HIPS ``autograd/__init__.py`` in place,
``from autograd import Value`` runs HIPS code only, and Python says "cannot
import name 'Value'"; nothing of chainrule runs to explain it. ``import nn``
first explains it.
"""

from __future__ import annotations

import json
import shlex
import sys
from importlib import metadata
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

CLASH = (
    "chainrule and the HIPS 'autograd' package on PyPI both install a top-level package "
    "named 'autograd', so they cannot share one Python environment"
)


class EngineClashError(ImportError):
    """``import autograd`` did not give chainrule's engine (see the module docstring)."""


def _install_source() -> str:
    """What to reinstall chainrule from, as pip arguments: its wheel file, its clone
    (``-e`` for an editable install), or the package index."""
    try:
        dist = metadata.distribution("chainrule")
    except metadata.PackageNotFoundError:  # running from a source tree, not installed
        return "<chainrule's wheel or clone directory>"
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if not isinstance(direct, dict) or not isinstance(direct.get("url"), str):
        return "chainrule"  # from the package index
    url = direct["url"]
    parsed = urlparse(url)
    where = url2pathname(unquote(parsed.path)) if parsed.scheme == "file" else url
    editable = isinstance(direct.get("dir_info"), dict) and direct["dir_info"].get("editable")
    return ("-e " if editable else "") + shlex.quote(where)


def fix() -> str:
    """The commands that restore chainrule's files, for this interpreter and this install."""
    pip = f"{shlex.quote(sys.executable)} -m pip"
    return (f"Fix: run `{pip} uninstall -y autograd` then "
            f"`{pip} install --force-reinstall --no-deps {_install_source()}`, "
            "or keep chainrule in a separate virtual environment")


def _print_in_one_line(previous):
    """An excepthook that prints an uncaught EngineClashError as its one line (the
    traceback says nothing the message does not) and leaves every other error alone."""

    def hook(kind, value, tb):
        if isinstance(value, EngineClashError):
            print(f"ImportError: {value}", file=sys.stderr)
        else:
            previous(kind, value, tb)

    hook.chainrule_engine_check = True
    return hook


def _clash(message: str) -> EngineClashError:
    if not getattr(sys.excepthook, "chainrule_engine_check", False):
        sys.excepthook = _print_in_one_line(sys.excepthook)
    return EngineClashError(" ".join(f"{message} {CLASH}. {fix()}".split()), name="autograd")


def check_engine() -> None:
    """Raise EngineClashError naming the clash unless ``autograd`` is chainrule's engine."""
    try:
        import autograd
    except ImportError as err:
        raise _clash(
            f"chainrule's nn could not import its engine, autograd ({err}). If another "
            "package named autograd is installed here, that is the cause:"
        ) from err
    if getattr(autograd, "__chainrule__", None) is True and hasattr(autograd, "Value"):
        return
    location = getattr(autograd, "__file__", None)
    if location is None:  # a namespace package: a folder whose __init__.py was deleted
        folders = ", ".join(str(p) for p in getattr(autograd, "__path__", ()))
        found = f"a folder with no __init__.py ({folders}): uninstalling HIPS autograd deletes it"
    else:
        found = f"{location}, which is not chainrule's"
    raise _clash(f"chainrule's nn needs chainrule's autograd, but 'import autograd' found {found}.")


check_engine()
