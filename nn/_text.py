"""Counts in messages: "1 number", "3 numbers", never "1 numbers"."""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` with ``noun`` in agreement; ``many`` is the plural when it is not noun + "s"."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"
