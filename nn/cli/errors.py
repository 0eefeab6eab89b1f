"""How the command line fails: its two errors and the one-line form of every message."""

from __future__ import annotations

import re

PROG = "chainrule"
# Longer runs of non-blanks in an error message (a 5000-digit number) are shortened.
_LONG_TOKEN = 100


class UsageError(Exception):
    """A bad argument found after parsing: reported like argparse's, exit code 2."""


class DataError(UsageError):
    """Bad data in a file or a point (not a wrong command line): one line, exit code 2,
    without the usage block."""


# A long run of non-blanks, with the quotes around it if any (a repr in a message).
_LONG_RUN = re.compile(rf"(['\"]?)([^\s'\"]{{{_LONG_TOKEN + 1},}})(\1)")


def one_line(message: str) -> str:
    """An error message as one line, every over-long value shortened.

    A 5000-digit number in a message would otherwise be echoed in full; it keeps
    its first and last digits and says how long it was.
    """

    def short(m: re.Match) -> str:
        quote, body = m.group(1), m.group(2)
        return f"{quote}{body[:24]}\u2026{body[-12:]}{quote} ({len(body)} characters)"

    return _LONG_RUN.sub(short, " ".join(message.split()))
