"""Fail early, and clearly, when ``import autograd`` is not chainrule's engine.

The HIPS autograd on PyPI has the same top-level name. pip installs both into one
``autograd/`` folder without a word (``pip check`` sees nothing wrong): whichever
was installed last owns ``autograd/__init__.py``, and uninstalling HIPS deletes
that file, chainrule's too. nn would then fail deep inside an import with
"cannot import name 'Value'". ``nn/__init__.py`` imports this module first, so
``import nn`` and the ``chainrule`` script raise an ImportError that names the
clash and the fix instead.
"""

from __future__ import annotations

FIX = (
    "chainrule and the HIPS 'autograd' package on PyPI both install a top-level package "
    "named 'autograd', so they cannot share one Python environment. Fix: install "
    "chainrule in a separate virtual environment, or remove the other package and "
    "restore chainrule's files: pip uninstall autograd, then "
    "pip install --force-reinstall chainrule"
)


def check_engine() -> None:
    """Raise ImportError naming the clash unless ``autograd`` is chainrule's engine."""
    try:
        import autograd
    except ImportError as err:
        raise ImportError(
            f"chainrule's nn could not import its engine, autograd ({err}). If another "
            f"package named autograd is installed here, that is the cause. {FIX}",
            name="autograd",
        ) from err
    if getattr(autograd, "__chainrule__", None) is True and hasattr(autograd, "Value"):
        return
    location = getattr(autograd, "__file__", None)
    if location is None:  # a namespace package: a folder whose __init__.py was deleted
        folders = ", ".join(str(p) for p in getattr(autograd, "__path__", ()))
        found = f"a folder with no __init__.py ({folders}): uninstalling HIPS autograd deletes it"
    else:
        found = f"{location}, which is not chainrule's"
    raise ImportError(
        f"chainrule's nn needs chainrule's autograd, but 'import autograd' found {found}. {FIX}",
        name="autograd",
    )


check_engine()
