"""Check backprop against central differences: ``gradcheck`` and ``gradgradcheck``.

Both only read graphs through the public API (``grad``, ``Value.data``), so they
check whatever rule an op uses, including ops users register themselves. Each
returns True or raises ``GradcheckError`` (an ``AssertionError``, so a bare
``assert gradcheck(...)`` in a test reads naturally) whose message is a table
of every derivative compared, the failing rows marked.

The numeric derivative of g at x is (g(x + eps) - g(x - eps)) / (2 eps), taken
one input at a time. It is off by about eps^2 |g'''| / 6 (truncation) plus
1e-16 |g| / eps (rounding), so a derivative passes when
|analytic - numeric| <= atol + rtol * |numeric|.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

from .backward import grad
from .hessian import call, check_callable, fresh_leaves, points
from .value import Value


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree.

    ``rows`` holds one dict per derivative compared, with keys ``input``,
    ``analytic``, ``numeric``, ``abs_error``, ``rel_error`` and ``ok``.
    """

    def __init__(self, message: str, rows: list[dict] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []


def gradcheck(
    f: Callable[..., Value],
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the gradient backprop gives for ``f(*values)`` with central differences.

    ``inputs`` are the point to check at: real numbers, or Values whose ``data``
    is used (``f`` gets fresh leaves, so no ``.grad`` anywhere is touched).
    Returns True, or raises ``GradcheckError`` with a table of input index,
    analytic and numeric derivative, absolute and relative error.
    """
    who = "gradcheck"
    xs, leaves, out, (eps, atol, rtol) = _prepare(who, f, inputs, eps, atol, rtol)
    analytic = [d.data for d in grad(out, leaves)]

    def value_at(ys: list[float]) -> list[float]:
        return [call(f, fresh_leaves(ys), who).data]

    rows = []
    for i, a in enumerate(analytic):
        (numeric,) = _central_difference(who, value_at, xs, i, eps)
        rows.append(_row(str(i), xs[i], a, numeric, atol, rtol))
    _raise_if_failed(
        who,
        f"derivatives of {_name(f)} disagree with central differences",
        ("input", "at", "analytic", "numeric"),
        rows,
        eps,
        atol,
        rtol,
    )
    return True


def gradgradcheck(
    f: Callable[..., Value],
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check second derivatives: the graph that ``grad(create_graph=True)`` builds.

    Two comparisons, each raising ``GradcheckError`` with a table on failure:
    first the values of the create_graph first derivatives against the plain
    ``grad`` ones (the same rules run on Values and on floats), then every
    d^2 f / (dx_i dx_j), got by differentiating the first derivative i again,
    against the central difference in x_j of the plain first derivative i.
    """
    who = "gradgradcheck"
    xs, leaves, out, (eps, atol, rtol) = _prepare(who, f, inputs, eps, atol, rtol)
    firsts = grad(out, leaves, create_graph=True)
    plain = [d.data for d in grad(out, leaves)]

    consistency = [
        _row(str(i), xs[i], g.data, p, atol, rtol)
        for i, (g, p) in enumerate(zip(firsts, plain, strict=True))
    ]
    _raise_if_failed(
        who,
        f"first derivatives of {_name(f)} differ between create_graph=True and False",
        ("input", "at", "create_graph=True", "create_graph=False"),
        consistency,
        None,
        atol,
        rtol,
    )

    def gradient_at(ys: list[float]) -> list[float]:
        fresh = fresh_leaves(ys)
        return [d.data for d in grad(call(f, fresh, who), fresh)]

    n = len(xs)
    analytic = [[d.data for d in grad(g, leaves)] for g in firsts]
    numeric = [_central_difference(who, gradient_at, xs, j, eps) for j in range(n)]
    rows = [
        _row(f"{i},{j}", f"{xs[i]:.6g},{xs[j]:.6g}", analytic[i][j], numeric[j][i], atol, rtol)
        for i in range(n)
        for j in range(n)
    ]
    _raise_if_failed(
        who,
        f"second derivatives d2f/dx_i dx_j of {_name(f)} disagree with "
        "central differences of the first derivatives",
        ("i,j", "at", "analytic", "numeric"),
        rows,
        eps,
        atol,
        rtol,
    )
    return True


# --- pieces -----------------------------------------------------------------------

def _prepare(who: str, f, inputs, eps, atol, rtol):
    """Check the arguments and evaluate ``f`` once at fresh leaves: the shared start
    of both checks. Returns the points, the leaves, f's output and the tolerances."""
    check_callable(f, who)
    xs = points(inputs, who)
    tolerances = _tolerances(who, eps, atol, rtol)
    leaves = fresh_leaves(xs)
    out = call(f, leaves, who)
    _finite_output(who, f, xs, out)
    return xs, leaves, out, tolerances


def _tolerances(who: str, eps, atol, rtol) -> tuple[float, float, float]:
    checked = []
    for name, x, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        if isinstance(x, Value) or not isinstance(x, numbers.Real):
            raise TypeError(f"{who}: {name} must be a real number, got {x!r} ({type(x).__name__})")
        try:
            x = float(x)
        except OverflowError:
            raise OverflowError(f"{who}: {name} is too large for a float") from None
        if not math.isfinite(x) or x < 0 or (positive and x == 0):
            need = "positive" if positive else "non-negative"
            raise ValueError(f"{who}: {name} must be a finite {need} number, got {x!r}")
        checked.append(x)
    return checked[0], checked[1], checked[2]


def _finite_output(who: str, f, xs: list[float], out: Value) -> None:
    if not math.isfinite(out.data):
        raise ValueError(
            f"{who}: {_name(f)} is {out.data!r} at inputs {xs!r}; "
            "derivatives can only be checked where f is finite"
        )


def _central_difference(who: str, g, xs: list[float], i: int, eps: float) -> list[float]:
    """(g(x + eps e_i) - g(x - eps e_i)) / step for a vector-valued ``g``.

    The step is the distance between the two points as floats, which is not
    always exactly 2 eps.
    """
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    if up[i] == down[i]:
        raise ValueError(
            f"{who}: eps={eps!r} is below the float spacing at inputs[{i}] = {xs[i]!r}, "
            "so x + eps and x - eps are the same number; pass a larger eps"
        )
    values = []
    for ys, side in ((up, "+"), (down, "-")):
        try:
            values.append(g(ys))
        except (ArithmeticError, ValueError) as err:
            raise ValueError(
                f"{who}: f failed at inputs[{i}] {side} eps = {ys[i]!r} ({err}); "
                "check at a point further from the edge of f's domain, or use a smaller eps"
            ) from err
    step = up[i] - down[i]
    return [(u - d) / step for u, d in zip(values[0], values[1], strict=True)]


def _row(label: str, at, analytic: float, numeric: float, atol: float, rtol: float) -> dict:
    abs_error = abs(analytic - numeric)
    if numeric:
        rel_error = abs_error / abs(numeric)
    elif abs_error:
        rel_error = math.inf
    else:
        rel_error = 0.0
    ok = abs_error <= atol + rtol * abs(numeric)  # False for NaN
    return {
        "input": label,
        "at": at,
        "analytic": analytic,
        "numeric": numeric,
        "abs_error": abs_error,
        "rel_error": rel_error,
        "ok": ok,
    }


def _raise_if_failed(who, what, headers, rows, eps, atol, rtol) -> None:
    failed = sum(not r["ok"] for r in rows)
    if not failed:
        return
    settings = f"atol={atol!r}, rtol={rtol!r}" + ("" if eps is None else f", eps={eps!r}")
    lines = [
        f"{who} failed: {failed} of {len(rows)} {what}",
        f"a row passes if |{headers[2]} - {headers[3]}| <= atol + rtol * |{headers[3]}|"
        f" ({settings})",
        "",
        *_table(headers, rows),
    ]
    raise GradcheckError("\n".join(lines), rows)


def _table(headers, rows) -> list[str]:
    """Aligned text columns; a failing row ends in '<-- FAIL'."""
    head = [*headers, "abs error", "rel error"]
    body = []
    for r in rows:
        at = r["at"] if isinstance(r["at"], str) else f"{r['at']:.6g}"
        body.append(
            [
                r["input"],
                at,
                _number(r["analytic"]),
                _number(r["numeric"]),
                f"{r['abs_error']:.3g}",
                f"{r['rel_error']:.3g}",
            ]
        )
    widths = [max(len(h), *(len(b[k]) for b in body)) for k, h in enumerate(head)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r, cells in zip(rows, body, strict=True):
        line = "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
        lines.append(line + ("" if r["ok"] else "  <-- FAIL"))
    return lines


def _number(x: float) -> str:
    return f"{x:.10g}"


def _name(f) -> str:
    name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
    return f"f = {name}" if name else f"f = {f!r}"
