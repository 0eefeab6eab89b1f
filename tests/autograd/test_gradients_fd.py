"""backward() against central finite differences, for every op, over wide inputs.

How the check works (``check`` below):

* The numeric derivative is a central difference computed from two more
  forward passes through the library, (f(x + h) - f(x - h)) / 2h, in plain
  float arithmetic on ``.data``.
* ``h`` is a power of two close to 1e-6 * scale (``step_for``), where the scale
  is max(1, |x|) unless an op says otherwise, and x is snapped to a multiple of
  h (``snap``). Then x + h and x - h are exact floats and the step is exactly
  2h, so the only errors left are the two below.
* Truncation error: f(x +- h) = f +- h f' + h^2/2 f'' +- h^3/6 f'''(xi), so the
  central difference is off by at most h^2/6 * sup |f'''| over [x - h, x + h].
  Each test states that bound for its op (``trunc``); piecewise-linear ops are
  kept a margin of a few h away from their kinks *by construction* (inputs are
  moved, never filtered out), so their truncation error is exactly 0.
* Rounding error: if each forward value is within ulps * u * M of the truth
  (u = eps/2, M = max(|f(x+h)|, |f(x-h)|), or the sum of absolute terms for
  sum/dot, where cancellation makes |f| the wrong scale), their difference is
  within ulps * eps * M, and the quotient within ulps * eps * M / (2h). The
  final subtraction and division, and the backprop rule itself (a few roundings
  of its result; where the rule loses relative accuracy, as sigmoid's
  out * (1 - out) near 1, its absolute error is a few u, far below the
  previous term because h < 1 there), add eps * (|numeric| + ulps * |grad|).
* Results in the subnormal range (a slope of 5e-324, e^-700 times a small
  step) are rounded to a fixed spacing TINY = 5e-324 instead of relatively, so
  each evaluation may also be off by TINY.
* The assertion allows SAFETY = 2 times the sum of these bounds, for libm
  functions that are a little worse than the ulps assumed.

With h ~ 1e-6 * |x|, truncation is ~1e-12 relative to the derivative for
smooth ops at unit scale and rounding is ~1e-10 relative, so a wrong formula
(a missing factor, a sign, an off-by-one exponent) fails by many orders of
magnitude.
"""

from __future__ import annotations

import math
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


EPS = sys.float_info.epsilon  # 2.2e-16, twice the unit roundoff u
TINY = math.ulp(0.0)  # 5e-324: results below the normal range are off by up to this much
SAFETY = 2.0
EXAMPLES = settings(max_examples=examples(0.6), deadline=None)


# --- helpers ---------------------------------------------------------------------


def step_for(scale: float) -> float:
    """The largest power of two not above 1e-6 * scale: the FD step."""
    return 2.0 ** math.floor(math.log2(1e-6 * scale))


def snap(x: float, h: float) -> float:
    """x rounded to a multiple of the power of two h, so that x +- h is exact.

    |x| / h <= 2**21 for the steps used here, far below 2**53.
    """
    return round(x / h) * h


def away_from(x: float, kink: float, margin: float) -> float:
    """Move x out of (kink - margin, kink + margin), keeping its side (0 goes up)."""
    if abs(x - kink) >= margin:
        return x
    return kink - margin if x < kink else kink + margin


def taylor(h: float, m3: float) -> float:
    """Truncation bound of the central difference: h^2/6 * sup |f'''|."""
    return h * h / 6.0 * m3


def backprop(fn, point):
    """fn(*Values) -> Value at ``point``; returns (data, [d out / d input])."""
    inputs = [Value(p) for p in point]
    out = fn(*inputs)
    out.backward()
    return out.data, [v.grad for v in inputs]


def forward(fn, point, i, t):
    """A second forward pass through the library with input i replaced by t."""
    moved = list(point)
    moved[i] = t
    return fn(*[Value(p) for p in moved]).data


def check(fn, point, steps, truncs, *, ulps=4.0, mag=None):
    """Assert backward() matches the central difference for every input.

    ``steps[i]``: the FD step for input i (point[i] must be a multiple of it);
    ``truncs[i]``: the truncation bound h^2/6 sup|f'''| for input i;
    ``ulps``: forward error in units of u relative to ``mag`` (default max |f|).
    """
    _, grads = backprop(fn, point)
    for i, (h, trunc) in enumerate(zip(steps, truncs, strict=True)):
        x = point[i]
        assert x + h - h == x and (x + h) - (x - h) == 2 * h, "step not exact"
        fp, fm = forward(fn, point, i, x + h), forward(fn, point, i, x - h)
        numeric = (fp - fm) / (2 * h)
        m = max(abs(fp), abs(fm)) if mag is None else mag
        rounding = (ulps * EPS * m + 2 * TINY) / (2 * h)
        final = EPS * (abs(numeric) + ulps * abs(grads[i])) + 2 * TINY
        tol = SAFETY * (trunc + rounding + final)
        err = abs(grads[i] - numeric)
        assert err <= tol, (
            f"input {i} at {point}: backward {grads[i]!r}, central difference "
            f"{numeric!r} (h={h!r}); error {err:.3g} > tolerance {tol:.3g} "
            f"(truncation {trunc:.3g}, rounding {rounding:.3g})"
        )


def wide(bound: float, smallest: float = 1e-6):
    """Floats in [-bound, bound] spread over every magnitude down to ``smallest``.

    Hypothesis' own float strategy supplies 0, subnormals and boundary values;
    the log-uniform part makes large and small magnitudes equally likely.
    """
    logs = st.floats(math.log10(smallest), math.log10(bound))
    spread = st.builds(
        lambda sign, e: sign * min(10.0**e, bound), st.sampled_from([1.0, -1.0]), logs
    )
    return st.one_of(st.floats(-bound, bound), spread)


def positive(bound: float, smallest: float):
    """Positive floats in [smallest, bound]: |u| + smallest, safe by construction."""
    return wide(bound, smallest).map(lambda u: min(abs(u) + smallest, bound))


# --- binary arithmetic ---------------------------------------------------------------


@EXAMPLES
@given(wide(1e6), wide(1e6))
def test_add(x, y):
    # The FD rounding term is eps*|x+y|/h for either input, so both steps are
    # taken relative to the larger operand. Linear: truncation 0.
    h = step_for(max(1.0, abs(x), abs(y)))
    x, y = snap(x, h), snap(y, h)
    check(lambda a, b: a + b, [x, y], [h, h], [0.0, 0.0])
    check(lambda a: a + y, [x], [h], [0.0])  # plain-number right operand
    check(lambda b: x + b, [y], [h], [0.0])  # plain-number left operand (radd)


@EXAMPLES
@given(wide(1e6), wide(1e6))
def test_sub(x, y):
    # As for +: linear, truncation 0; steps relative to the larger operand.
    h = step_for(max(1.0, abs(x), abs(y)))
    x, y = snap(x, h), snap(y, h)
    check(lambda a, b: a - b, [x, y], [h, h], [0.0, 0.0])
    check(lambda b: x - b, [y], [h], [0.0])  # rsub


@EXAMPLES
@given(wide(1e6), wide(1e6))
def test_mul(x, y):
    # Linear in each operand: truncation 0. The rounding term eps*|xy|/h_x is
    # ~1e-10 relative to the derivative y when h_x ~ 1e-6 max(1, |x|).
    hx, hy = step_for(max(1.0, abs(x))), step_for(max(1.0, abs(y)))
    x, y = snap(x, hx), snap(y, hy)
    check(lambda a, b: a * b, [x, y], [hx, hy], [0.0, 0.0])
    check(lambda a: a * a, [x], [hx], [taylor(hx, 0.0)])  # shared operand, x^2: f''' = 0
    check(lambda b: x * b, [y], [hy], [0.0])  # rmul


@EXAMPLES
@given(wide(1e6), wide(1e6, 1e-3).map(lambda u: math.copysign(abs(u) + 1e-3, u)))
def test_div(a, b):
    # |b| >= 1e-3 by construction. In a: linear. In b: d^3/db^3 (a/b) = -6a/b^4,
    # so sup over [b - h, b + h] is 6|a| / (|b| - h)^4; with h ~ 1e-6 |b| this is
    # ~1e-12 relative to the derivative a/b^2.
    ha, hb = step_for(max(1.0, abs(a))), step_for(abs(b))
    a, b = snap(a, ha), snap(b, hb)
    tb = hb * hb / 6.0 * 6.0 * abs(a) / (abs(b) - hb) ** 4
    check(lambda p, q: p / q, [a, b], [ha, hb], [0.0, tb])
    check(lambda q: 1.0 / q, [b], [hb], [hb * hb / (abs(b) - hb) ** 4])  # rtruediv, a = 1


@EXAMPLES
@given(
    positive(1e6, 1e-3),
    st.booleans(),
    # 4 decimals: no exponents like 1e-200, whose x^n - 1 is far below rounding
    st.floats(-6.0, 6.0).map(lambda n: round(n, 4)),
)
def test_pow_number(x, negative_base, n):
    # Value ** number. A negative base needs an integer exponent (else
    # ValueError), so it gets round(n). |x| in [1e-3, 1e6], |n| <= 6: no
    # overflow. f''' = n(n-1)(n-2) x^(n-3); over [x - h, x + h] the power is
    # largest at one of the ends. h ~ 1e-6 |x| makes the truncation ~1e-12
    # relative to n x^(n-1).
    if negative_base:
        n = float(round(n))
        x = -x
    h = step_for(abs(x))
    x = snap(x, h)
    ends = max((abs(x) - h) ** (n - 3), (abs(x) + h) ** (n - 3))
    trunc = taylor(h, abs(n * (n - 1) * (n - 2)) * ends)
    check(lambda v: v**n, [x], [h], [trunc])


@EXAMPLES
@given(positive(1e3, 1e-3), st.floats(-100.0, 100.0))
def test_number_pow_value(c, y):
    # number ** Value: c^y with c in [1e-3, 1e3] and |y| <= 100, so |y ln c| <= 691
    # and c^y stays finite. f''' = (ln c)^3 c^y, largest at an end of the step.
    h = step_for(max(1.0, abs(y)))
    y = snap(y, h)
    m3 = abs(math.log(c)) ** 3 * max(c ** (y - h), c ** (y + h))
    check(lambda v: c**v, [y], [h], [taylor(h, m3)])


@EXAMPLES
@given(positive(1e4, 1e-4), st.floats(-30.0, 30.0))
def test_pow_value_value(a, b):
    # Value ** Value, positive base by construction: a in [1e-4, 1e4], |b| <= 30,
    # so every power below stays within e^(+-305).
    # In a: f''' = b(b-1)(b-2) a^(b-3); in b: f''' = (ln a)^3 a^b; each bounded
    # by its larger end value over the step.
    ha, hb = step_for(a), step_for(max(1.0, abs(b)))
    a, b = snap(a, ha), snap(b, hb)
    ta = taylor(ha, abs(b * (b - 1) * (b - 2)) * max((a - ha) ** (b - 3), (a + ha) ** (b - 3)))
    tb = taylor(hb, abs(math.log(a)) ** 3 * max(a ** (b - hb), a ** (b + hb)))
    check(lambda p, q: p**q, [a, b], [ha, hb], [ta, tb])


# --- unary -------------------------------------------------------------------------------


@EXAMPLES
@given(wide(1e300))
def test_neg(x):
    # Linear: truncation 0, and -x is exact.
    h = step_for(max(1.0, abs(x)))
    x = snap(x, h)
    check(lambda v: -v, [x], [h], [0.0])


@EXAMPLES
@given(wide(1e300))
def test_abs(x):
    # Kink at 0: x is moved at least 2h away (snapping then moves it by <= h/2),
    # so [x - h, x + h] stays on one side and the function is linear there.
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(x, 0.0, 2 * h), h)
    check(lambda v: abs(v), [x], [h], [0.0])


@EXAMPLES
@given(st.one_of(st.floats(-700.0, 700.0), wide(700.0)))
def test_exp(x):
    # f''' = e^x <= e^(x + h). With h ~ 1e-6 max(1, |x|) <= 7e-4 the truncation is
    # at most h^2/6 ~ 8e-8 relative to the derivative e^x, at x = 700.
    h = step_for(max(1.0, abs(x)))
    x = snap(x, h)
    check(lambda v: v.exp(), [x], [h], [taylor(h, math.exp(x + h))])


@EXAMPLES
@given(positive(1e300, 1e-300))
def test_log(x):
    # Domain safe by construction: x = |u| + 1e-300 > 0, over 600 decades.
    # f''' = 2/x^3, so h^2/6 sup|f'''| = h^2 / (3 (x - h)^3), written as
    # (h/(x-h))^2 / (3 (x-h)) so that it does not under/overflow at 1e-300.
    h = step_for(x)
    x = snap(x, h)
    lo = x - h
    check(lambda v: v.log(), [x], [h], [(h / lo) ** 2 / (3.0 * lo)])


@EXAMPLES
@given(positive(1e300, 1e-300))
def test_sqrt(x):
    # x = |u| + 1e-300 > 0 (at 0 the derivative is infinite). f''' = 3/8 x^(-5/2);
    # h^2/6 sup|f'''| = (h/(x-h))^2 (x-h)^(-1/2) / 16.
    h = step_for(x)
    x = snap(x, h)
    lo = x - h
    check(lambda v: v.sqrt(), [x], [h], [(h / lo) ** 2 / math.sqrt(lo) / 16.0])


@EXAMPLES
@given(wide(1e4))
def test_tanh(x):
    # tanh''' = (1 - t^2)(6t^2 - 2): |.| <= 2 everywhere and <= 4 sech^2 x
    # <= 16 e^(-2|x|) in the tails.
    h = step_for(max(1.0, abs(x)))
    x = snap(x, h)
    m3 = min(2.0, 16.0 * math.exp(-2.0 * (abs(x) - h)))
    check(lambda v: v.tanh(), [x], [h], [taylor(h, m3)])


@EXAMPLES
@given(wide(700.0))
def test_sigmoid(x):
    # s''' = s(1-s)(1 - 6s + 6s^2) with |1 - 6s + 6s^2| <= 1 on [0, 1]:
    # |s'''| <= s(1-s) <= min(1/4, e^(-|x|)); its true maximum is 1/8 (at 0).
    # |x| <= 700 keeps e^-|x| a normal float.
    h = step_for(max(1.0, abs(x)))
    x = snap(x, h)
    m3 = min(0.125, math.exp(-(abs(x) - h)))
    check(lambda v: v.sigmoid(), [x], [h], [taylor(h, m3)])


@EXAMPLES
@given(wide(1e4))
def test_softplus(x):
    # softplus' = sigmoid, so f''' = s'' = s(1-s)(1-2s): |.| <= 0.0962 < 0.1 and
    # <= e^(-|x|). Rounding relative to |f| <= 1e4 + 1 stays ~1e-9 with h ~ 1e-6|x|.
    h = step_for(max(1.0, abs(x)))
    x = snap(x, h)
    m3 = min(0.1, math.exp(-(abs(x) - h)))
    check(lambda v: v.softplus(), [x], [h], [taylor(h, m3)])


@EXAMPLES
@given(wide(1e6))
def test_sin(x):
    # |sin'''| <= 1. sin varies on a unit scale whatever |x| is, so the step is
    # the fixed h = 2^-20 ~ 1e-6 (truncation <= 2e-13), not relative to |x|:
    # |x| / h <= 2^40, so x +- h is still exact.
    h = 2.0**-20
    x = snap(x, h)
    check(lambda v: v.sin(), [x], [h], [taylor(h, 1.0)])


@EXAMPLES
@given(wide(1e6))
def test_cos(x):
    # As for sin: |cos'''| <= 1, fixed step 2^-20.
    h = 2.0**-20
    x = snap(x, h)
    check(lambda v: v.cos(), [x], [h], [taylor(h, 1.0)])


# --- piecewise-linear and piecewise-constant units -------------------------------


@EXAMPLES
@given(wide(1e300))
def test_relu(x):
    # Linear on each side of the kink at 0; x is kept >= 2h away from it.
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(x, 0.0, 2 * h), h)
    check(lambda v: v.relu(), [x], [h], [0.0])


@EXAMPLES
@given(wide(1e300), st.one_of(st.floats(0.0, 1.0), st.floats(-2.0, 5.0)))
def test_leaky_relu(x, slope):
    # Linear on each side of 0 (slopes 1 and ``slope``); x kept >= 2h from 0.
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(x, 0.0, 2 * h), h)
    check(lambda v: v.leaky_relu(slope), [x], [h], [0.0])
    check(lambda v: v.leaky_relu(), [x], [h], [0.0])  # default slope 0.01


@EXAMPLES
@given(wide(1e3), st.floats(0.0, 5.0))
def test_elu(x, alpha):
    # x > 0: linear. x < 0: alpha (e^x - 1), f''' = alpha e^x <= alpha e^(x + h).
    # The kink at 0 (slopes 1 and alpha) is kept >= 2h away.
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(x, 0.0, 2 * h), h)
    m3 = 0.0 if x > 0 else alpha * math.exp(x + h)
    check(lambda v: v.elu(alpha), [x], [h], [taylor(h, m3)])
    check(lambda v: v.elu(), [x], [h], [taylor(h, 0.0 if x > 0 else math.exp(x + h))])


@EXAMPLES
@given(wide(1e3), st.floats(-100.0, 100.0), st.floats(0.01, 100.0))
def test_hardtanh(x, lo, width):
    # Constant below lo and above hi, identity between. x is kept >= 2h from both
    # bounds (they are >= 0.01 > 4h apart, so moving off one cannot land near the other).
    hi = lo + width
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(away_from(x, lo, 2 * h), hi, 2 * h), h)
    check(lambda v: v.hardtanh(lo, hi), [x], [h], [0.0])
    y = snap(away_from(away_from(x, -1.0, 2 * h), 1.0, 2 * h), h)
    check(lambda v: v.hardtanh(), [y], [h], [0.0])  # default bounds -1, 1


@EXAMPLES
@given(wide(1e300))
def test_step_and_sign(x):
    # Piecewise constant: away from the jump at 0 (>= 2h) the difference is 0 and
    # so must the derivative be.
    h = step_for(max(1.0, abs(x)))
    x = snap(away_from(x, 0.0, 2 * h), h)
    check(lambda v: v.step(), [x], [h], [0.0])
    check(lambda v: v.sign(), [x], [h], [0.0])


# --- n-ary helpers -------------------------------------------------------------------------


@EXAMPLES
@given(st.lists(wide(1e6), min_size=1, max_size=6), st.floats(-10.0, 10.0))
def test_sum(xs, constant):
    # Linear: truncation 0. A float sum of n terms is within (n - 1) u sum|x_i| of
    # the truth, whatever the order, so the rounding scale is sum|x_i| (not |f|,
    # which cancellation can make tiny) with ulps = n + 1 (the constant is a term).
    # All steps are relative to the largest term, since that sets the error.
    scale = max(1.0, *map(abs, xs))
    h = step_for(scale)
    xs = [snap(x, h) for x in xs]
    n = len(xs) + 1
    mag = scale * n + abs(constant)

    def f(*vs):
        return autograd.sum([*vs, constant])  # a plain number becomes a constant leaf

    check(f, xs, [h] * len(xs), [0.0] * len(xs), ulps=n + 1, mag=mag)


@EXAMPLES
@given(st.integers(1, 5).flatmap(lambda n: st.lists(wide(1e3), min_size=2 * n, max_size=2 * n)))
def test_dot(operands):
    # Linear in each operand: truncation 0. n products and n - 1 additions: the
    # result is within (n + 1) u sum|w_i x_i| of the truth; that sum bounds the
    # rounding scale. One step for all, relative to the largest operand.
    n = len(operands) // 2
    scale = max(1.0, *map(abs, operands))
    h = step_for(scale)
    point = [snap(v, h) for v in operands]
    mag = sum(abs(w * x) for w, x in zip(point[:n], point[n:], strict=True)) + 2 * h * scale

    def f(*vs):
        return autograd.dot(vs[:n], vs[n:])

    check(f, point, [h] * (2 * n), [0.0] * (2 * n), ulps=n + 2, mag=mag)


@EXAMPLES
@given(
    st.lists(st.integers(-4000, 4000), min_size=1, max_size=6, unique=True),
    st.floats(0.0, 0.25, exclude_max=True),
)
def test_maximum(ks, offset):
    # Distinct by construction: values on a grid of 0.25 (plus a common offset),
    # so every gap is >= 0.25 - 1e-12 while h <= 1e-3: perturbing one input by h
    # never changes which input is maximal, and the max is linear (truncation 0)
    # with derivative 1 for the maximal input and 0 for the others.
    xs = [k * 0.25 + offset for k in ks]
    hs = [step_for(max(1.0, abs(x))) for x in xs]
    xs = [snap(x, h) for x, h in zip(xs, hs, strict=True)]
    check(lambda *vs: autograd.maximum(vs), xs, hs, [0.0] * len(xs))
    _, grads = backprop(lambda *vs: autograd.maximum(vs), xs)
    assert sorted(grads) == [0.0] * (len(xs) - 1) + [1.0]
    assert grads[xs.index(max(xs))] == 1.0
