"""Readable, unique, safe Python names for generated code and printed programs.

A label is used as a name only when Python reads it as that very identifier
(NFKC-normalised, not a keyword, not a builtin or a name the generated code
needs); everything else gets a plain fallback. No user text other than a name
that passed these checks ever reaches generated source.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

# Names the generated code itself uses, and the op helpers it calls.
GENERATED = {
    "ins", "nums", "tape", "g", "r", "d", "forward", "backward", "sum", "float", "abs",
    "inf", "nan", "mul", "tanh", "expm1", "ok", "data", "grad", "True", "None",
}
RESERVED = GENERATED | set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)


def usable(label: str) -> bool:
    """True if ``label`` can be a name in generated code exactly as written."""
    if not label or not label.isidentifier() or keyword.iskeyword(label):
        return False
    if unicodedata.normalize("NFKC", label) != label:
        return False  # Python would read it as another name
    if label in RESERVED or label.startswith(("_", "a_", "d_", "k_", "c_")):
        return False
    if re.match(r"[st]\d+_", label):  # backward's temporaries
        return False
    return not (label[0] in "vnrct" and label[1:].isdigit())  # the fallbacks' shapes


def printable(label: str) -> bool:
    """True if ``label`` can name a variable in a printed Program: any identifier
    that reads as itself and cannot be taken for a fallback name (no source is
    made from a printed Program, so the generated code's own names are fine)."""
    if not label or not label.isidentifier() or keyword.iskeyword(label):
        return False
    if unicodedata.normalize("NFKC", label) != label:
        return False
    return not (label[0] == "v" and label[1:].isdigit())


class Names:
    """Unique names: a usable label, else ``fallback`` or v1, v2, ...
    (``printing``: labels need only be ``printable``)."""

    def __init__(self, printing: bool = False) -> None:
        self.used: set[str] = set()
        self.unnamed = 0
        self.usable = printable if printing else usable

    def make(self, label: str, fallback: str | None = None) -> str:
        if self.usable(label):
            base = label
        elif fallback is not None:
            base = fallback
        else:
            self.unnamed += 1
            base = f"v{self.unnamed}"
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name
