"""Bad input everywhere: a hypothesis fuzz over every public entry point of autograd.

The rule (API.md, "Errors"): every call either returns the right answer, with
NaN and inf propagating as IEEE floats do, or raises one of the documented
exceptions (TypeError, ValueError, ZeroDivisionError, OverflowError) with a
message that names the op and the offending value. Nothing hangs (each call runs
under a SIGALRM watchdog) and nothing returns a silently wrong number: results
are checked against Python's own float arithmetic and ``math``, or exact
``Fraction`` arithmetic for derivatives of + - * /.

Defects the fuzz found are listed at the end of this file as regression tests
(D1-D6, G1, G2); each was fixed in the engine or the checkers after it was found.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Constant, Value, detect_anomaly, grad, no_grad

DOCUMENTED = (TypeError, ValueError, ZeroDivisionError, OverflowError)
NAN, INF = math.nan, math.inf
MAX = 1.7976931348623157e308
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- strategies ---------------------------------------------------------------------

SPECIAL_FLOATS = [
    NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 1e308, -1e308, MAX, -MAX,
    5e-324, -5e-324, 2.2250738585072014e-308, 709.78, 710.0, -745.2, 1e-300, 1e16,
]
floats_any = st.one_of(st.floats(), st.sampled_from(SPECIAL_FLOATS))
finite_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([f for f in SPECIAL_FLOATS if math.isfinite(f)]),
)
reals = st.one_of(
    floats_any,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.fractions(max_denominator=1000).filter(lambda q: abs(q) < 10**6),
)
# real numbers that float() cannot hold (defect D1 until fixed)
huge_reals = st.one_of(
    st.integers(min_value=2**1024, max_value=2**1100),
    st.integers(min_value=-(2**1100), max_value=-(2**1024)),
    st.just(Fraction(10**400, 3)),
)
junk = st.one_of(
    st.text(max_size=3),
    st.none(),
    st.lists(st.floats(), max_size=2),
    st.tuples(),
    st.complex_numbers(),
    st.decimals(places=2, allow_nan=False, max_value=10**6, min_value=-(10**6)),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), b"1", {}, {1.0}, range(2)]),
    st.builds(object),
    st.just(math.sin),
)
values = st.builds(Value, floats_any)
anything = st.one_of(reals, huge_reals, junk, values)


# --- running a call -----------------------------------------------------------------


class Hang(Exception):
    """The watchdog fired: a call took longer than any scalar op may."""


@contextlib.contextmanager
def watchdog(seconds: float = 5.0) -> Iterator[None]:
    usable = threading.current_thread() is threading.main_thread() and hasattr(
        signal, "setitimer"
    )
    if not usable:
        yield
        return

    def fire(signum, frame):
        raise Hang(f"call still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None


def attempt(call: Callable[[], object], what: str, also: tuple = ()) -> Outcome:
    """Run ``call``; any exception outside the documented four (and ``also``) fails."""
    try:
        with watchdog():
            return Outcome(value=call())
    except DOCUMENTED + also as err:
        return Outcome(error=err)
    except Exception as err:
        raise AssertionError(
            f"{what} raised an undocumented {type(err).__name__}: {err}"
        ) from err


def assert_raised(out: Outcome, kind: type | tuple, what: str, *needles: str) -> None:
    assert out.error is not None, f"{what}: expected {kind}, got a result {out.value!r}"
    assert isinstance(out.error, kind), (
        f"{what}: expected {kind}, got {type(out.error).__name__}: {out.error}"
    )
    msg = str(out.error)
    for needle in needles:
        assert needle in msg, f"{what}: message {msg!r} does not name {needle!r}"


def same_float(got: float, want: float) -> bool:
    """Equal as IEEE results: NaN matches NaN, infinities match by sign."""
    if math.isnan(want):
        return math.isnan(got)
    return got == want


def is_huge(x: object) -> bool:
    """A real number float() cannot represent."""
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        try:
            float(x)
        except OverflowError:
            return True
    return False


def kind_of(x: object) -> str:
    if isinstance(x, Value):
        return "value"
    if isinstance(x, numbers.Real):
        return "huge" if is_huge(x) else "real"
    return "junk"


def as_float(x: object) -> float:
    return x.data if isinstance(x, Value) else float(x)  # type: ignore[arg-type]


def normal(*xs: float) -> bool:
    """Zero or a normal float well inside the range: derivatives are checked exactly here."""
    return all(x == 0.0 or (math.isfinite(x) and 2.0**-900 < abs(x) < 2.0**900) for x in xs)


def huge_needles(who: str, x: object) -> tuple[str, str]:
    """What an OverflowError for a too-large real must name: the op and the value
    (its repr may be cut short, so its first 20 characters)."""
    return who, repr(x)[:20]


# --- Value() and Constant() -------------------------------------------------------------


@FUZZ
@given(
    x=anything,
    label=st.one_of(st.none(), st.text(max_size=3), junk, reals),
    cls=st.sampled_from([Value, Constant]),
)
def test_constructor(x: object, label: object, cls: type) -> None:
    what = f"{cls.__name__}({x!r}, label={label!r})"
    if label is None:
        out = attempt(lambda: cls(x), what)
    else:
        out = attempt(lambda: cls(x, label=label), what)
    kind = kind_of(x)
    if kind in ("junk", "value"):
        assert_raised(out, TypeError, what, "Value()", repr(x))
        return
    if kind == "huge":
        assert_raised(out, OverflowError, what, *huge_needles("Value()", x))
        return
    if label is not None and not isinstance(label, str):
        assert_raised(out, TypeError, what, "label", repr(label))
        return
    assert out.error is None, f"{what} raised {out.error!r}"
    v = out.value
    assert type(v) is cls
    assert type(v.data) is float and same_float(v.data, float(x))
    assert v.grad == 0.0 and v.op == "" and v.parents == () and v._prev == ()
    assert v.label == ("" if label is None else label)
    assert float(v) is v.data or same_float(float(v), v.data)


# --- binary operators ----------------------------------------------------------------------

SYMBOLS = {
    "+": lambda p, q: p + q,
    "-": lambda p, q: p - q,
    "*": lambda p, q: p * q,
    "/": lambda p, q: p / q,
    "**": lambda p, q: p**q,
}


def python_pow(x: float, y: float) -> Outcome:
    """Python's float ``x ** y``; a complex result is the engine's ValueError."""
    if x < 0 and math.isfinite(x) and math.isfinite(y) and not y.is_integer():
        return Outcome(error=ValueError("complex"))  # even where complex pow overflows
    try:
        r = x**y
    except (ZeroDivisionError, OverflowError) as err:
        return Outcome(error=err)
    if isinstance(r, complex):
        return Outcome(error=ValueError("complex"))
    return Outcome(value=float(r))


def expected_binary(sym: str, x: float, y: float, value_exponent: bool) -> Outcome:
    if sym == "+":
        return Outcome(value=x + y)
    if sym == "-":
        return Outcome(value=x - y)
    if sym == "*":
        return Outcome(value=x * y)
    if sym == "/":
        return Outcome(error=ZeroDivisionError()) if y == 0 else Outcome(value=x / y)
    if value_exponent and not x > 0:  # d/dy x**y = x**y log x: the base must be positive
        return Outcome(error=ValueError())
    return python_pow(x, y)


def exact_partials(sym: str, x: float, y: float) -> tuple[Fraction, Fraction] | None:
    fx, fy = Fraction(x), Fraction(y)
    if sym == "+":
        return Fraction(1), Fraction(1)
    if sym == "-":
        return Fraction(1), Fraction(-1)
    if sym == "*":
        return fy, fx
    if sym == "/":
        return 1 / fy, -fx / (fy * fy)
    return None


def float_pow_partials(x: float, y: float, value_exponent: bool) -> tuple[float, float] | None:
    """(d/dbase, d/dexponent); a plain-number exponent is a Constant leaf and, like
    every constant, gets x**y log x where that exists (x > 0), else 0."""
    try:
        dx = 0.0 if y == 0 else y * x ** (y - 1.0)
        dy = x**y * math.log(x) if value_exponent or x > 0 else 0.0
    except (ArithmeticError, ValueError):
        return None
    if isinstance(dx, complex) or not (math.isfinite(dx) and math.isfinite(dy)):
        return None
    return dx, dy


def to_float(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return INF if q > 0 else -INF


def close(got: float, want: float, rel: float = 1e-14) -> bool:
    return math.isclose(got, want, rel_tol=rel, abs_tol=1e-290)


@FUZZ
@given(a=floats_any, other=anything, sym=st.sampled_from(sorted(SYMBOLS)), left=st.booleans())
def test_binary_operators(a: float, other: object, sym: str, left: bool) -> None:
    check_binary(a, other, sym, left)


@pytest.mark.parametrize("sym", sorted(SYMBOLS))
def test_binary_operators_on_every_pair_of_special_floats(sym: str) -> None:
    """The corners random search may miss: every special float against every other."""
    for a in SPECIAL_FLOATS:
        for b in SPECIAL_FLOATS:
            for left in (True, False):
                check_binary(a, b, sym, left)
                check_binary(a, Value(b), sym, left)


def check_binary(a: float, other: object, sym: str, left: bool) -> None:
    va = Value(a)
    f = SYMBOLS[sym]
    what = f"Value({a!r}) {sym} {other!r}" if left else f"{other!r} {sym} Value({a!r})"
    out = attempt((lambda: f(va, other)) if left else (lambda: f(other, va)), what)
    kind = kind_of(other)
    if kind == "junk":
        assert_raised(out, TypeError, what, f"'{sym}'", repr(other))
        return
    if kind == "huge":
        if sym == "**" and not left and isinstance(other, Fraction):
            # Fraction.__pow__ itself computes float(self) ** other: Python's message
            assert_raised(out, OverflowError, what)
        else:
            assert_raised(out, OverflowError, what, *huge_needles(f"'{sym}'", other))
        return
    b = as_float(other)
    x, y = (a, b) if left else (b, a)
    value_exponent = (not left) or kind == "value"
    want = expected_binary(sym, x, y, value_exponent)
    if want.error is not None:
        assert_raised(out, type(want.error), what, f" {sym} ", repr(x), repr(y))
        return
    assert out.error is None, f"{what}: expected {want.value!r}, raised {out.error!r}"
    r = out.value
    assert isinstance(r, Value) and same_float(r.data, want.value), (what, r, want.value)

    # the node: the symbol as op, operands in order, a plain number as a Constant leaf
    assert r.op == sym
    p, q = r.parents
    mine, theirs = (p, q) if left else (q, p)
    assert mine is va
    if kind == "value":
        assert theirs is other
    else:
        assert type(theirs) is Constant and same_float(theirs.data, b) and theirs.op == ""

    # its backward: exact partials (Fractions) for + - * /, Python floats for **
    if not normal(x, y, r.data):
        return
    back = attempt(r.backward, f"({what}).backward()")
    if back.error is not None:
        assert_raised(back, DOCUMENTED, f"({what}).backward()", f"'{sym}'")
        return
    exact = exact_partials(sym, x, y)
    if exact is not None:
        for node, d in zip((p, q), exact, strict=True):
            want_d = to_float(d)
            if normal(want_d):
                assert close(node.grad, want_d), (what, node.grad, want_d)
        return
    approx = float_pow_partials(x, y, value_exponent)
    if approx is not None and normal(*approx):
        assert close(p.grad, approx[0], 1e-12), (what, "d/dbase", p.grad, approx[0])
        assert close(q.grad, approx[1], 1e-12), (what, "d/dexponent", q.grad, approx[1])


@FUZZ
@given(a=floats_any, label=st.text(max_size=3))
def test_unary_operators_detach_zero_grad_and_conversions(a: float, label: str) -> None:
    v = Value(a, label=label)
    n = -v
    assert same_float(n.data, -a) and n.op != "" and n.parents == (v,)
    m = abs(v)
    assert same_float(m.data, abs(a)) and m.parents == (v,)
    assert +v is v
    assert same_float(float(v), a)
    d = n.detach()
    assert d is not n and same_float(d.data, n.data) and d.op == "" and d.parents == ()
    assert d.label == n.label and d.grad == 0.0
    v.grad = 3.0
    v.zero_grad()
    assert v.grad == 0.0
    assert v == v and v != Value(a) and hash(v) == hash(v)  # == is identity
    assert (v == a) is False and (v != "x") is True  # never raises, never compares data


# --- comparisons ------------------------------------------------------------------------------

COMPARISONS = {
    "<": lambda p, q: p < q,
    "<=": lambda p, q: p <= q,
    ">": lambda p, q: p > q,
    ">=": lambda p, q: p >= q,
}


@FUZZ
@given(a=floats_any, other=anything, sym=st.sampled_from(sorted(COMPARISONS)), left=st.booleans())
def test_comparisons(a: float, other: object, sym: str, left: bool) -> None:
    va, f = Value(a), COMPARISONS[sym]
    what = f"Value({a!r}) {sym} {other!r}" if left else f"{other!r} {sym} Value({a!r})"
    out = attempt((lambda: f(va, other)) if left else (lambda: f(other, va)), what)
    kind = kind_of(other)
    if kind == "junk":
        assert_raised(out, TypeError, what, repr(other))
        return
    # exactly as Python compares a float with the number (a big int, a Fraction ...)
    b = other.data if kind == "value" else other
    want = f(a, b) if left else f(b, a)
    assert out.error is None and out.value is want, (what, out, want)


# --- unary methods ------------------------------------------------------------------------------

DEFAULT = object()  # "argument not passed"
params = st.one_of(st.just(DEFAULT), reals, huge_reals, junk, values)


def sigmoid_ref(x: float) -> float:
    if math.isnan(x):
        return x
    e = math.exp(-abs(x))  # never overflows
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


def softplus_ref(x: float) -> float:
    if math.isnan(x) or x == INF:
        return x
    if x == -INF:
        return 0.0
    return math.log1p(math.exp(x)) if x < 30.0 else x + math.log1p(math.exp(-x))


def sign_ref(x: float) -> float:
    if math.isnan(x):
        return x
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def forward_ref(name: str, x: float, args: tuple) -> Outcome:
    """The value of each method, from math and IEEE floats; NaN in gives NaN out."""
    if math.isnan(x):
        return Outcome(value=NAN)
    try:
        if name == "exp":
            return Outcome(value=math.exp(x))
        if name == "log":
            return Outcome(value=math.log(x)) if x > 0 else Outcome(error=ValueError())
        if name == "sqrt":
            return Outcome(value=math.sqrt(x)) if x >= 0 else Outcome(error=ValueError())
        if name in ("sin", "cos"):
            return Outcome(value=getattr(math, name)(x))
    except (OverflowError, ValueError) as err:
        return Outcome(error=err)
    if name == "tanh":
        return Outcome(value=math.tanh(x))
    if name == "sigmoid":
        return Outcome(value=sigmoid_ref(x))
    if name == "softplus":
        return Outcome(value=softplus_ref(x))
    if name == "relu":
        return Outcome(value=x if x > 0 else 0.0)
    if name == "leaky_relu":
        (s,) = args
        return Outcome(value=x if x > 0 else s * x)
    if name == "elu":
        (alpha,) = args
        return Outcome(value=x if x > 0 else alpha * math.expm1(x))
    if name == "hardtanh":
        lo, hi = args
        return Outcome(value=min(max(x, lo), hi))
    if name == "step":
        return Outcome(value=1.0 if x >= 0 else 0.0)
    if name == "sign":
        return Outcome(value=sign_ref(x))
    raise AssertionError(name)


def derivative_ref(name: str, x: float, args: tuple) -> tuple[float, float] | None:
    """(d/dx, absolute error scale of the engine's formula) at a finite x."""
    if name == "exp":
        return math.exp(x), 0.0
    if name == "log":
        return 1.0 / x, 0.0
    if name == "sqrt":
        return 0.5 / math.sqrt(x), 0.0
    if name == "sin":
        return math.cos(x), 0.0
    if name == "cos":
        return -math.sin(x), 0.0
    if name == "tanh":  # sech^2 x; the engine's 1 - tanh^2 is good to an ulp of 1
        return (0.0 if abs(x) > 350 else 1.0 / math.cosh(x) ** 2), 1.0
    if name == "sigmoid":  # s (1 - s): good to an ulp of 1 too
        e = math.exp(-abs(x))
        return e / (1.0 + e) ** 2, 1.0
    if name == "softplus":
        return sigmoid_ref(x), 0.0
    if name == "relu":
        return (1.0 if x > 0 else 0.0), 0.0
    if name == "leaky_relu":
        return (1.0 if x > 0 else args[0]), 0.0
    if name == "elu":  # alpha e^x, computed by the engine as out + alpha
        return (1.0 if x > 0 else args[0] * math.exp(x)), abs(args[0])
    if name == "hardtanh":
        lo, hi = args
        return (1.0 if lo < x < hi else 0.0), 0.0
    if name in ("step", "sign"):
        return 0.0, 0.0
    raise AssertionError(name)


METHODS = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus",
    "hardtanh", "sin", "cos", "step", "sign",
]
DEFAULTS = {"leaky_relu": (0.01,), "elu": (1.0,), "hardtanh": (-1.0, 1.0)}


@FUZZ
@given(x=floats_any, name=st.sampled_from(METHODS), p1=params, p2=params)
def test_methods(x: float, name: str, p1: object, p2: object) -> None:
    check_method(x, name, p1, p2)


SPECIAL_PARAMS = [DEFAULT, 0.0, 0.3, -2.0, 1.0, NAN, INF, -INF, 1e308, "0.1", None, Value(0.5)]


@pytest.mark.parametrize("name", METHODS)
def test_methods_on_every_special_float(name: str) -> None:
    """Every method at every special float, with every special parameter."""
    for x in SPECIAL_FLOATS:
        for p1 in SPECIAL_PARAMS:
            for p2 in SPECIAL_PARAMS if name == "hardtanh" else [DEFAULT]:
                check_method(x, name, p1, p2)


def check_method(x: float, name: str, p1: object, p2: object) -> None:
    v = Value(x)
    if name in ("leaky_relu", "elu"):
        passed = () if p1 is DEFAULT else (p1,)
    elif name == "hardtanh":
        passed = () if p1 is DEFAULT else ((p1,) if p2 is DEFAULT else (p1, p2))
    else:
        passed = ()
    what = f"Value({x!r}).{name}{passed!r}"
    out = attempt(lambda: getattr(v, name)(*passed), what)

    args = DEFAULTS.get(name, ())
    for i, p in enumerate(passed):
        kind = kind_of(p)
        if kind in ("junk", "value"):
            assert_raised(out, TypeError, what, name, repr(p))
            return
        if kind == "huge":
            assert_raised(out, OverflowError, what, *huge_needles(name, p))
            return
        args = args[:i] + (float(p),) + args[i + 1 :]
    if name in ("leaky_relu", "elu") and not math.isfinite(args[0]):
        assert_raised(out, ValueError, what, name, repr(args[0]))
        return
    if name == "hardtanh" and not args[0] <= args[1]:
        assert_raised(out, ValueError, what, "hardtanh", repr(args[0]), repr(args[1]))
        return

    if name in ("sin", "cos") and math.isinf(x):
        # Python's math.sin(inf) raises ValueError; IEEE (and PyTorch) say NaN
        assert out.error is None and math.isnan(out.value.data), (what, out)
        return
    want = forward_ref(name, x, args)
    if want.error is not None:
        assert_raised(out, type(want.error), what, f"{name}(", repr(x))
        return
    assert out.error is None, f"{what}: expected {want.value!r}, raised {out.error!r}"
    y = out.value
    assert isinstance(y, Value) and y.op == name and y.parents == (v,)
    if name in ("sigmoid", "softplus") and math.isfinite(want.value):
        assert math.isclose(y.data, want.value, rel_tol=1e-13, abs_tol=1e-300), (what, y.data)
    else:
        assert same_float(y.data, want.value), (what, y.data, want.value)

    # backward: documented errors only; at normal finite inputs the exact derivative
    back = attempt(y.backward, f"{what}.backward()")
    if back.error is not None:
        assert_raised(back, DOCUMENTED, f"{what}.backward()", name)
        if name == "sqrt" and x == 0.0:
            assert isinstance(back.error, ZeroDivisionError)
        return
    assert not (name == "sqrt" and x == 0.0), "sqrt'(0) is infinite: backward must raise"
    if not (normal(x, y.data) and all(math.isfinite(a) for a in args)):
        return
    d, scale = derivative_ref(name, x, args)
    assert math.isclose(v.grad, d, rel_tol=1e-12, abs_tol=1e-15 * scale + 1e-300), (
        what, v.grad, d,
    )
    # the same derivative through grad(), with and without create_graph
    for create in (False, True):
        (g,) = grad(getattr(v, name)(*passed), [v], create_graph=create)
        assert g.data == v.grad, (what, create, g.data, v.grad)


ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "leaky_relu": lambda v: v.leaky_relu(),
    "leaky_relu(0.2)": lambda v: v.leaky_relu(0.2),
    "elu": lambda v: v.elu(),
    "elu(2.5)": lambda v: v.elu(2.5),
    "softplus": lambda v: v.softplus(),
    "hardtanh": lambda v: v.hardtanh(),
    "hardtanh(-3, 0.5)": lambda v: v.hardtanh(-3.0, 0.5),
    "sin": lambda v: v.sin(),
    "cos": lambda v: v.cos(),
    "step": lambda v: v.step(),
    "sign": lambda v: v.sign(),
    "abs": abs,
    "neg": lambda v: -v,
    "exp": lambda v: v.exp(),
}


@settings(max_examples=400, deadline=None)
@given(x=finite_floats, name=st.sampled_from(sorted(ACTIVATIONS)))
def test_activations_never_make_nan_or_inf_from_finite_inputs(x: float, name: str) -> None:
    """For every finite x: the value, the gradient and the second derivative are finite.

    The one documented exception: exp overflows (x > 709.78) with OverflowError.
    """
    f = ACTIVATIONS[name]
    v = Value(x)
    out = attempt(lambda: f(v), f"{name}({x!r})")
    if out.error is not None:
        assert name == "exp" and x > 709 and isinstance(out.error, OverflowError), out.error
        return
    y = out.value
    assert math.isfinite(y.data), f"{name}({x!r}) = {y.data!r}"
    y.backward()
    assert math.isfinite(v.grad), f"d {name}/dx at {x!r} = {v.grad!r}"
    (g,) = grad(f(v), [v], create_graph=True)
    assert g.data == v.grad
    (h,) = grad(g, [v])
    assert math.isfinite(h.data), f"d2 {name}/dx2 at {x!r} = {h.data!r}"


# --- sum, dot, maximum -------------------------------------------------------------------------

items = st.one_of(reals, values, junk, huge_reals)
containers = st.sampled_from(["list", "tuple", "iter"])
non_iterables = st.one_of(
    st.none(), st.integers(), st.floats(), st.builds(object), st.complex_numbers(), values
)


def wrap(xs: list, how: str) -> object:
    return {"list": list, "tuple": tuple, "iter": iter}[how](xs)


def first_bad(xs: list) -> object:
    """The first operand the engine must reject, or DEFAULT if there is none."""
    for x in xs:
        if kind_of(x) in ("junk", "huge"):
            return x
    return DEFAULT


def ieee_sum_ok(got: float, terms: list[float]) -> bool:
    """``got`` is the sum of ``terms`` as floats would give it (any summation order)."""
    naive = 0.0
    for t in terms:
        naive += t
    if same_float(got, naive):
        return True
    if not all(math.isfinite(t) for t in terms):
        return False  # nan/inf: the IEEE answer is order-independent, and naive has it
    try:
        exact = math.fsum(terms)
    except OverflowError:
        return math.isinf(got)
    bound = 4 * len(terms) * 2.0**-53 * math.fsum(abs(t) for t in terms)
    return abs(got - exact) <= bound


def check_nary_backward(r: Value, partials: list[float]) -> None:
    r.backward()
    for node, d in zip(r.parents, partials, strict=True):
        assert node.grad == d, (r.op, node, d)


@FUZZ
@given(
    fn=st.sampled_from(["sum", "maximum", "logsumexp"]),
    xs=st.lists(items, max_size=5),
    how=containers,
    non_iterable=st.one_of(st.just(DEFAULT), non_iterables),
)
def test_sum_and_maximum(fn: str, xs: list, how: str, non_iterable: object) -> None:
    f = getattr(autograd, fn)
    if non_iterable is not DEFAULT:
        what = f"autograd.{fn}({non_iterable!r})"
        out = attempt(lambda: f(non_iterable), what)
        assert_raised(out, TypeError, what, fn, repr(non_iterable))
        return
    what = f"autograd.{fn}({how}({xs!r}))"
    out = attempt(lambda: f(wrap(xs, how)), what)
    bad = first_bad(xs)
    if bad is not DEFAULT:
        if kind_of(bad) == "huge":
            assert_raised(out, OverflowError, what, *huge_needles(fn, bad))
        else:
            assert_raised(out, TypeError, what, fn, repr(bad))
        return
    floats = [as_float(x) for x in xs]
    if not xs:
        if fn in ("maximum", "logsumexp"):
            assert_raised(out, ValueError, what, fn)
        else:
            assert out.error is None and out.value.data == 0.0 and out.value.parents == ()
        return
    assert out.error is None, f"{what} raised {out.error!r}"
    r = out.value
    assert isinstance(r, Value) and len(r.parents) == len(xs)
    for node, x in zip(r.parents, xs, strict=True):
        assert node is x if isinstance(x, Value) else type(node) is Constant
    if fn == "sum":
        assert ieee_sum_ok(r.data, floats), (what, r.data)
        if all(normal(t) for t in floats) and math.isfinite(r.data):
            check_nary_backward(r, [1.0] * len(xs))
        return
    if fn == "logsumexp":
        check_logsumexp(r, floats, what)
        return
    nans = [i for i, t in enumerate(floats) if math.isnan(t)]
    if nans:  # a NaN anywhere makes the maximum NaN; its gradient goes to the first NaN
        assert math.isnan(r.data), (what, r.data)
        first = nans[0]
    else:
        assert r.data == max(floats), (what, r.data)
        first = floats.index(max(floats))
    check_nary_backward(r, [1.0 if i == first else 0.0 for i in range(len(xs))])


def check_logsumexp(r: Value, floats: list[float], what: str) -> None:
    """IEEE-style specials, else log(sum e^x) to a few ulps; the gradient is the softmax."""
    if any(math.isnan(t) for t in floats):
        assert math.isnan(r.data), (what, r.data)
        return
    top = max(floats)
    if math.isinf(top):
        assert r.data == top, (what, r.data)
        return
    terms = [math.exp(t - top) for t in floats]
    want = top + math.log(math.fsum(terms))
    assert math.isclose(r.data, want, rel_tol=1e-14, abs_tol=1e-300), (what, r.data, want)
    if all(normal(t) for t in floats):
        r.backward()
        total = math.fsum(terms)
        # Each share is e^(x - out): out carries a rounding error of |out| ulp-sized
        # units, which e^ turns into the same relative error of the share.
        rel = 4 * sys.float_info.epsilon * (abs(r.data) + 1.0)
        for node, term in zip(r.parents, terms, strict=True):
            share = term / total  # node.grad accumulates shares of repeated operands
            assert node.grad >= share * (1 - rel), (what, node.grad, share)
        if len({id(n) for n in r.parents}) == len(r.parents):  # distinct operands
            got = math.fsum(n.grad for n in r.parents)
            assert math.isclose(got, 1.0, rel_tol=rel), (what, got)


@FUZZ
@given(
    ws=st.lists(items, max_size=4),
    xs=st.lists(items, max_size=4),
    bias=st.one_of(st.just(DEFAULT), st.none(), items),
    how=containers,
    non_iterable=st.one_of(st.just(DEFAULT), non_iterables),
    which=st.booleans(),
)
def test_dot(ws: list, xs: list, bias: object, how: str, non_iterable: object, which: bool):
    if non_iterable is not DEFAULT:
        args = (non_iterable, [1.0]) if which else ([1.0], non_iterable)
        what = f"autograd.dot{args!r}"
        out = attempt(lambda: autograd.dot(*args), what)
        assert_raised(out, TypeError, what, "dot", repr(non_iterable))
        return
    kwargs = {} if bias is DEFAULT else {"bias": bias}
    what = f"autograd.dot({ws!r}, {xs!r}, **{kwargs!r})"
    out = attempt(lambda: autograd.dot(wrap(ws, how), wrap(xs, how), **kwargs), what)
    if len(ws) != len(xs):
        assert_raised(out, ValueError, what, "dot", str(len(ws)), str(len(xs)))
        return
    operands = ws + xs + ([] if bias is DEFAULT or bias is None else [bias])
    bad = first_bad(operands)
    if bad is not DEFAULT:
        if kind_of(bad) == "huge":
            assert_raised(out, OverflowError, what, *huge_needles("dot", bad))
        else:
            assert_raised(out, TypeError, what, "dot", repr(bad))
        return
    assert out.error is None, f"{what} raised {out.error!r}"
    r = out.value
    if not operands:
        assert r.data == 0.0 and r.parents == ()
        return
    fw = [as_float(w) for w in ws]
    fx = [as_float(x) for x in xs]
    terms = [w * x for w, x in zip(fw, fx, strict=True)]
    if len(operands) > len(ws) + len(xs):
        terms.append(as_float(operands[-1]))
    assert ieee_sum_ok(r.data, terms), (what, r.data, terms)
    assert len(r.parents) == len(operands)
    for node, x in zip(r.parents, operands, strict=True):
        assert node is x if isinstance(x, Value) else type(node) is Constant
    if all(normal(t) for t in fw + fx + terms) and math.isfinite(r.data):
        partials = fx + fw + [1.0] * (len(operands) - len(ws) - len(xs))
        check_nary_backward(r, partials)


def problems_of_items(items: list, who: str) -> list[tuple[type, tuple[str, ...]]]:
    """The errors an operand list may raise: TypeError naming ``who`` and the item
    for junk, OverflowError naming them for a real float() cannot hold."""
    found: list[tuple[type, tuple[str, ...]]] = []
    for x in items:
        if kind_of(x) == "junk":
            found.append((TypeError, (who, repr(x))))
        elif kind_of(x) == "huge":
            found.append((OverflowError, huge_needles(who, x)))
    return found


def assert_one_of(out: Outcome, problems: list[tuple[type, tuple[str, ...]]], what: str) -> None:
    """``out`` raised the error of one of the input's problems."""
    assert out.error is not None, f"{what}: expected one of {problems}, got {out.value!r}"
    for kind, needles in problems:
        if isinstance(out.error, kind) and all(n in str(out.error) for n in needles):
            return
    raise AssertionError(f"{what}: raised {out.error!r}, expected one of {problems}")


rows_strategy = st.one_of(
    st.lists(st.one_of(st.lists(items, max_size=3), non_iterables), max_size=3),
    non_iterables,
)
biases_strategy = st.one_of(
    st.just(DEFAULT), st.none(), st.lists(st.one_of(st.none(), items), max_size=3), non_iterables
)


@FUZZ
@given(
    rows=rows_strategy,
    xs=st.one_of(st.lists(items, max_size=3), non_iterables),
    biases=biases_strategy,
    how=containers,
)
def test_dots(rows: object, xs: object, biases: object, how: str) -> None:
    """autograd.dots(rows, xs, biases): one dot node per row, sharing the inputs."""
    kwargs = {} if biases is DEFAULT else {"biases": biases}
    what = f"autograd.dots({rows!r}, {xs!r}, **{kwargs!r})"
    wrapped_rows = wrap(rows, how) if isinstance(rows, list) else rows
    out = attempt(lambda: autograd.dots(wrapped_rows, xs, **kwargs), what)

    problems: list[tuple[type, tuple[str, ...]]] = []

    def not_iterable(name: str, x: object) -> tuple[type, tuple[str, ...]]:
        return TypeError, ("dots", name, repr(x))

    if not isinstance(xs, list):
        problems.append(not_iterable("xs", xs))
    else:
        problems += problems_of_items(xs, "dots")
    bias_list: list = [None] * (len(rows) if isinstance(rows, list) else 0)
    if not isinstance(rows, list):
        problems.append(not_iterable("rows", rows))
    elif biases not in (DEFAULT, None):
        if not isinstance(biases, list):
            problems.append(not_iterable("biases", biases))
        elif len(biases) != len(rows):
            problems.append((ValueError, ("dots", str(len(rows)), str(len(biases)))))
        else:
            bias_list = biases
    if isinstance(rows, list):
        for row, b in zip(rows, bias_list, strict=False):
            if not isinstance(row, list):
                problems.append(not_iterable("row", row))
                continue
            problems += problems_of_items(row + ([] if b is None else [b]), "dots")
            if isinstance(xs, list) and len(row) != len(xs):
                problems.append((ValueError, ("dots", str(len(row)), str(len(xs)))))
    if problems:
        assert_one_of(out, problems, what)
        return

    assert out.error is None, f"{what} raised {out.error!r}"
    results = out.value
    assert isinstance(results, list) and len(results) == len(rows)
    for row, b, r in zip(rows, bias_list, results, strict=True):
        operands = row + xs + ([] if b is None else [b])
        assert isinstance(r, Value) and len(r.parents) == len(operands)
        for node, x in zip(r.parents, operands, strict=True):
            assert node is x if isinstance(x, Value) else type(node) is Constant
        fw, fx = [as_float(w) for w in row], [as_float(x) for x in xs]
        terms = [w * x for w, x in zip(fw, fx, strict=True)] + ([] if b is None else [as_float(b)])
        assert ieee_sum_ok(r.data, terms), (what, r.data, terms)
        if operands and all(normal(t) for t in fw + fx + terms) and math.isfinite(r.data):
            partials = fx + fw + ([] if b is None else [1.0])
            got = grad(r, list(r.parents))  # reads no .grad, so rows sharing xs stay apart
            assert [g.data for g in got] == partials, (what, got, partials)


# --- gradcheck, gradgradcheck, hessian -------------------------------------------------

CHECKED_FS = {
    "square": (lambda x: x * x, 1),
    "two": (lambda x, y: x * y + x.sin(), 2),
    "returns a float": (lambda *xs: 1.0, None),
    "not callable": (5, None),
}


@settings(max_examples=200, deadline=None)
@given(
    fn=st.sampled_from(["gradcheck", "gradgradcheck", "hessian"]),
    fname=st.sampled_from(sorted(CHECKED_FS)),
    inputs=st.one_of(
        st.lists(st.one_of(st.floats(-10, 10), items), max_size=3), reals, huge_reals, junk,
        values,
    ),
    tol=st.one_of(st.just(DEFAULT), reals, junk),
)
def test_gradcheck_and_hessian(fn: str, fname: str, inputs: object, tol: object) -> None:
    f, arity = CHECKED_FS[fname]
    call_fn = getattr(autograd, fn)
    kwargs = {} if tol is DEFAULT or fn == "hessian" else {"atol": tol}
    what = f"{fn}({fname}, {inputs!r}, **{kwargs!r})"
    out = attempt(lambda: call_fn(f, inputs, **kwargs), what, also=(autograd.GradcheckError,))

    problems: list[tuple[type, tuple[str, ...]]] = []
    if not callable(f):
        problems.append((TypeError, (fn, repr(f))))
    if isinstance(inputs, (numbers.Real, Value)):
        point = [inputs]
    elif isinstance(inputs, Iterable) and not isinstance(inputs, (str, bytes)):
        point = list(inputs)  # any iterable of numbers is a point: a tuple, a set, range
    else:
        point = None
    if point is not None:
        problems += problems_of_items(point, fn)
        for i, x in enumerate(point):  # named by position: "inputs[0] is too large"
            if kind_of(x) == "huge":
                problems.append((OverflowError, (fn, f"[{i}]")))
        finite = [as_float(x) for x in point if kind_of(x) in ("real", "value")]
        if any(not math.isfinite(x) for x in finite):
            problems.append((ValueError, (fn,)))
        if not point:
            problems.append((ValueError, (fn,)))
    else:
        problems.append((TypeError, (fn, repr(inputs))))
    if kwargs:
        if kind_of(tol) in ("junk", "value"):
            problems.append((TypeError, (fn, "atol")))
        elif kind_of(tol) == "huge":
            problems.append((OverflowError, (fn, "atol")))
        elif not (math.isfinite(float(tol)) and float(tol) >= 0):
            problems.append((ValueError, (fn, "atol")))
    if problems:
        assert_one_of(out, problems, what)
        return
    if arity is None:  # callable, but returns a float: named TypeError
        assert_raised(out, TypeError, what, fn)
        return
    if arity != len(point):  # f(*xs) itself rejects the count: Python's TypeError
        assert_raised(out, TypeError, what)
        return
    xs = [as_float(x) for x in point]
    if fn == "hessian":
        assert out.error is None, f"{what} raised {out.error!r}"
        want = [[2.0]] if fname == "square" else [[-math.sin(xs[0]), 1.0], [1.0, 0.0]]
        got = out.value
        assert [len(row) for row in got] == [len(row) for row in want], (what, got)
        flat_got = [h for row in got for h in row]
        flat_want = [h for row in want for h in row]
        assert flat_got == pytest.approx(flat_want, rel=1e-12, abs=1e-12), (what, got)
        return
    # True, or a GradcheckError table (e.g. atol=0 at a big x), or a named ValueError
    # where f is not finite near the point; never anything else
    if isinstance(out.error, autograd.GradcheckError):
        assert "analytic" in str(out.error) and "numeric" in str(out.error)
    elif out.error is not None:
        assert_raised(out, ValueError, what, fn)
    else:
        assert out.value is True


# --- grad(), backward(), topological_order() ------------------------------------------------


@FUZZ
@given(
    xv=st.floats(-1e3, 1e3),
    yv=st.floats(-1e3, 1e3),
    out_pick=st.one_of(st.sampled_from(["out", "x"]), reals, junk, huge_reals),
    picks=st.one_of(
        st.lists(st.one_of(st.sampled_from(["x", "y", "out", "other"]), reals, junk), max_size=4),
        st.sampled_from(["x", "out"]),  # a single Value, not in a list
        non_iterables.filter(lambda o: not isinstance(o, Value)),
    ),
    how=containers,
    create_graph=st.booleans(),
)
def test_grad_function(xv, yv, out_pick, picks, how, create_graph) -> None:
    x, y, other = Value(xv, label="x"), Value(yv, label="y"), Value(3.0)
    out = x * y + x.sin()
    named = {"x": x, "y": y, "out": out, "other": other}
    d_out = {x: yv + math.cos(xv), y: xv, out: 1.0}
    output = named.get(out_pick, out_pick) if isinstance(out_pick, str) else out_pick
    if isinstance(picks, str):
        inputs, flat = named[picks], [named[picks]]
    elif isinstance(picks, list):
        flat = [named.get(p, p) if isinstance(p, str) else p for p in picks]
        inputs = wrap(flat, how)
    else:
        inputs, flat = picks, None
    what = f"grad({out_pick!r}, {picks!r}, create_graph={create_graph})"
    res = attempt(lambda: grad(output, inputs, create_graph=create_graph), what)

    if not isinstance(output, Value):
        assert_raised(res, TypeError, what, "grad", repr(output))
        return
    if flat is None:
        assert_raised(res, TypeError, what, "grad", repr(inputs))
        return
    bad = next((p for p in flat if not isinstance(p, Value)), DEFAULT)
    if bad is not DEFAULT:
        assert_raised(res, TypeError, what, "grad", repr(bad))
        return
    assert res.error is None, f"{what} raised {res.error!r}"
    gs = res.value
    assert isinstance(gs, list) and len(gs) == len(flat)
    for node, g in zip(flat, gs, strict=True):
        assert isinstance(g, Value)
        # output a leaf: d leaf / d leaf = 1, and 0 for everything else
        want = d_out.get(node, 0.0) if output is out else float(node is output)
        assert g.data == pytest.approx(want, rel=1e-12, abs=1e-12), (what, node, g, want)
        if not create_graph:
            assert g.op == "" and g.parents == ()
    # grad() touches no .grad
    assert x.grad == y.grad == out.grad == other.grad == 0.0


@FUZZ
@given(root=st.one_of(reals, junk, huge_reals))
def test_backward_and_topological_order_reject_non_values(root: object) -> None:
    for fn in (autograd.backward, autograd.topological_order):
        what = f"{fn.__name__}({root!r})"
        out = attempt(lambda f=fn: f(root), what)
        assert_raised(out, TypeError, what, fn.__name__, repr(root)[:20])


def test_context_managers_and_switches_reject_arguments() -> None:
    for fn in (no_grad, detect_anomaly, autograd.is_grad_enabled):
        with pytest.raises(TypeError):
            fn(1)  # type: ignore[call-arg]
    # and bad input inside them still raises the documented errors
    with no_grad(), pytest.raises(TypeError, match="'\\+'"):
        Value(1.0) + "a"  # noqa: B018
    with detect_anomaly(), pytest.raises(ValueError, match="log"):
        Value(-1.0).log()


ENGINE_FUZZED = {
    "AnomalyError", "Constant", "Value", "backward", "detect_anomaly", "dot", "dots", "grad",
    "is_grad_enabled", "logsumexp", "maximum", "no_grad", "sum", "topological_order",
    "GradcheckError", "gradcheck", "gradgradcheck", "hessian",
}


def test_every_public_engine_name_is_fuzzed() -> None:
    """A new public name from the engine modules needs a fuzz test here."""
    engine = {
        "autograd.value", "autograd.backward", "autograd.mode", "autograd.gradcheck",
        "autograd.hessian",
    }
    public = {
        name
        for name in autograd.__all__
        if name in vars(autograd)  # lazily loaded names (draw, to_svg) are not the engine
        and getattr(vars(autograd)[name], "__module__", "") in engine
    }
    assert public <= ENGINE_FUZZED, f"not fuzzed: {sorted(public - ENGINE_FUZZED)}"


def test_nan_and_inf_propagate_through_every_method() -> None:
    """Spot checks of the IEEE rule named in the brief (the fuzz covers the rest)."""
    assert math.isnan(Value(NAN).exp().data)
    assert Value(-INF).exp().data == 0.0 and Value(INF).log().data == INF
    for name in METHODS:
        assert math.isnan(getattr(Value(NAN), name)().data), name
    assert math.isnan((Value(INF) - Value(INF)).data)
    assert math.isnan(autograd.sum([Value(INF), Value(-INF)]).data)
    assert math.isnan(autograd.dot([Value(0.0)], [Value(INF)]).data)


# --- defects the fuzz found (fixed since), kept as regression tests -------------------
#
# D1 a real float() cannot hold raised OverflowError('int too large to convert to
#    float') naming neither op nor value; comparisons raised where Python compares
# D2 maximum([1.0, nan]) was 1.0 but maximum([nan, 1.0]) nan: a NaN silently lost
# D3 Value(nan).sqrt().backward() raised ZeroDivisionError "infinite at x = 0"
# D4 Value ** number raised ValueError for (-2.0)**inf, (-2.0)**nan, (-inf)**0.5
#    where Python's float rules (the contract) give inf, nan, inf
# D5 dot(5, xs) and grad(y, 5) raised "'int' object is not iterable", unnamed
# D6 backward('a') and topological_order('a') raised AttributeError
# G2 gradcheck/gradgradcheck/hessian turned a huge real into a float, unnamed


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: Value(10**400), "Value()"),
        (lambda: Value(1.0) + 10**400, "+"),
        (lambda: 10**400 * Value(1.0), "*"),
        (lambda: Value(1.0) ** 10**400, "**"),
        (lambda: Value(Fraction(10**400, 3)), "Value()"),
        (lambda: Value(-1.0).leaky_relu(10**400), "leaky_relu"),
        (lambda: Value(-1.0).elu(-(10**400)), "elu"),
        (lambda: Value(0.0).hardtanh(-(10**400)), "hardtanh"),
        (lambda: autograd.sum([Value(1.0), 10**400]), "sum"),
        (lambda: autograd.dot([10**400], [Value(1.0)]), "dot"),
        (lambda: autograd.maximum([Value(1.0), 10**400]), "maximum"),
    ],
)
def test_d1_huge_number_errors_name_the_op_and_value(call, needle) -> None:
    with pytest.raises(OverflowError) as info:
        call()
    assert needle in str(info.value) and "1000000000" in str(info.value), str(info.value)


def test_d1_comparison_with_a_huge_number_is_exact() -> None:
    assert Value(1.0) < 10**400
    assert Value(1.0) > -(10**400)
    assert not Value(1e308) >= Fraction(10**400, 3)
    assert Value(float(2**53)) < 2**53 + 1  # exact, not via float(2**53 + 1) == 2**53


def test_d2_maximum_propagates_nan_in_any_position() -> None:
    for xs in ([1.0, NAN], [NAN, 1.0], [2.0, NAN, 1.0]):
        vs = [Value(x) for x in xs]
        r = autograd.maximum(vs)
        assert math.isnan(r.data), f"maximum({xs}) = {r.data}"
        r.backward()
        assert [v.grad for v in vs] == [1.0 if math.isnan(x) else 0.0 for x in xs]


def test_d3_sqrt_backward_at_nan_propagates() -> None:
    x = Value(NAN)
    x.sqrt().backward()
    assert math.isnan(x.grad)
    with pytest.raises(ZeroDivisionError, match="sqrt"):
        Value(0.0).sqrt().backward()  # at 0 the derivative really is infinite


@pytest.mark.parametrize(
    "base, exponent", [(-2.0, INF), (-0.5, INF), (-2.0, -INF), (-2.0, NAN), (-INF, 0.5)]
)
def test_d4_negative_base_follows_python_float_pow(base: float, exponent: float) -> None:
    assert same_float((Value(base) ** exponent).data, base**exponent)


@pytest.mark.parametrize(
    "call, needles",
    [
        (lambda: autograd.dot(5, [1.0]), ("dot", "5")),
        (lambda: autograd.dot([1.0], None), ("dot", "None")),
        (lambda: autograd.dot(Value(1.0), [1.0]), ("dot", "Value(")),
        (lambda: autograd.dots(5, [1.0]), ("dots", "5")),
        (lambda: autograd.dots([[1.0]], None), ("dots", "None")),
        (lambda: grad(Value(1.0), 5), ("grad", "5")),
        (lambda: grad(Value(1.0), None), ("grad", "None")),
    ],
)
def test_d5_non_iterable_errors_name_the_function(call, needles) -> None:
    with pytest.raises(TypeError) as info:
        call()
    assert all(n in str(info.value) for n in needles), str(info.value)


@pytest.mark.parametrize("fn", [autograd.backward, autograd.topological_order])
@pytest.mark.parametrize("root", ["a", None, 1.0])
def test_d6_backward_rejects_non_values_with_type_error(fn, root) -> None:
    with pytest.raises(TypeError, match=fn.__name__):
        fn(root)


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: autograd.gradcheck(lambda x: x * x, [10**400]), "gradcheck"),
        (lambda: autograd.gradgradcheck(lambda x: x * x, [Fraction(10**400, 3)]), "gradgrad"),
        (lambda: autograd.hessian(lambda x: x * x, [-(10**400)]), "hessian"),
        (lambda: autograd.gradcheck(lambda x: x * x, [1.0], atol=10**400), "atol"),
    ],
)
def test_g2_checkers_name_a_huge_number(call, needle) -> None:
    """Regression (G2): gradcheck/hessian converted a huge real without naming it."""
    with pytest.raises(OverflowError) as info:
        call()
    assert needle in str(info.value), str(info.value)


# --- G1: gradcheck where eps is below the float spacing ----------------------------------


@pytest.mark.parametrize("fn", ["gradcheck", "gradgradcheck"])
def test_g1_gradcheck_with_a_zero_step_names_itself(fn: str) -> None:
    with pytest.raises((ValueError, ZeroDivisionError)) as info:
        getattr(autograd, fn)(lambda x: x * x, [17179869185.0])
    assert fn in str(info.value) and "eps" in str(info.value), str(info.value)
