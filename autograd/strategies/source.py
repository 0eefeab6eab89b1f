"""Source text of a drawn graph's nodes: the same builders run on these to write the
function as Python, which hypothesis shows when a test fails."""

from __future__ import annotations


class Source:
    """Python source text of a node, for reprs and failure reports."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _bin(self, op, o, reverse=False):
        a, b = str(self), _src(o)
        return Source(f"({b} {op} {a})" if reverse else f"({a} {op} {b})")

    def __add__(self, o):
        return self._bin("+", o)

    def __radd__(self, o):
        return self._bin("+", o, True)

    def __sub__(self, o):
        return self._bin("-", o)

    def __rsub__(self, o):
        return self._bin("-", o, True)

    def __mul__(self, o):
        return self._bin("*", o)

    def __rmul__(self, o):
        return self._bin("*", o, True)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __pow__(self, o):
        return self._bin("**", o)

    def __neg__(self):
        return Source(f"(-{self})")

    def __abs__(self):
        return Source(f"abs({self})")

    def __getattr__(self, method):  # exp, log, ..., hardtanh(lo, hi)
        def call(*args):
            return Source(f"{self}.{method}({', '.join(_src(a) for a in args)})")

        return call

    @staticmethod
    def n_sum(xs):
        return Source(f"autograd.sum([{', '.join(map(str, xs))}])")

    @staticmethod
    def n_dot(ws, xs, bias):
        extra = "" if bias is None else f", bias={bias}"
        return Source(
            f"autograd.dot([{', '.join(map(str, ws))}], [{', '.join(map(str, xs))}]{extra})"
        )

    @staticmethod
    def n_max(xs):
        return Source(f"autograd.maximum([{', '.join(map(str, xs))}])")

    @staticmethod
    def n_logsumexp(xs):
        return Source(f"autograd.logsumexp([{', '.join(map(str, xs))}])")


def _src(x) -> str:
    return str(x) if isinstance(x, Source) else repr(x)
