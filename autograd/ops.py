"""The one table of operations: each op's forward and its derivative rule, side by side.

Every rule is a vector-Jacobian product: it maps the gradient ``g`` arriving at
an op's output to the gradients of its inputs. Rules are written only with
arithmetic, comparisons and the dispatching helpers below, so the same rule runs
on floats (fast first-order backprop) and on Values (``grad(create_graph=True)``,
where the backward pass is itself recorded and can be differentiated again).

Signatures, by arity:
  unary   forward(x) -> float        vjp(g, x, out) -> gx
  binary  forward(a, b) -> float     vjp(g, a, b, out) -> (ga, gb)
  n-ary   forward(xs) -> float       vjp(g, operands, out) -> None

An n-ary rule adds each operand's share straight into ``operand.grad``, reading
operand values from ``operand.data``: a neuron's dot node has dozens of
operands, and accumulating in the same pass that computes the shares is what
keeps its backward step cheap. The first-order pass hands the rule the operand
Values themselves; ``grad()`` hands it stand-ins whose ``.data`` is the float
(or, with create_graph, the Value) and whose ``.grad`` is an entry of its own
gradient table. Either way the one rule below is all there is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from math import expm1, tanh  # noqa: F401 - names the templates use
from operator import mul

_REAL = (float, int)


# --- helpers that work on floats and on Values -------------------------------

def _sin(x):
    return _sin_forward(x) if isinstance(x, _REAL) else x.sin()


def _cos(x):
    return _cos_forward(x) if isinstance(x, _REAL) else x.cos()


def _exp(x):
    return math.exp(x) if isinstance(x, _REAL) else x.exp()


def _log(x):
    return math.log(x) if isinstance(x, _REAL) else x.log()


def _sigmoid(x):
    return sigmoid_forward(x) if isinstance(x, _REAL) else x.sigmoid()


def _is_nan(x) -> bool:
    """NaN test for a float or a Value (``x != x`` is identity on Values)."""
    if not isinstance(x, _REAL):
        x = x.data
    return x != x


def _is_zero(x) -> bool:
    return (x if isinstance(x, _REAL) else x.data) == 0


def _times_power(coef, base, exponent):
    """``coef * base ** exponent``, where an exact zero ``coef`` wins.

    The power rules multiply a factor that can be exactly 0 (the upstream
    gradient, or the exponent itself: d/dx x**1 = 1 * x**0, whose derivative is
    0 * x**-1) by a power that can overflow or divide by zero at tiny bases.
    The product is 0 whatever the power is, so the power is not allowed to turn
    it into an error. Any other overflow is a real one and propagates.
    """
    try:
        power = base**exponent
    except (OverflowError, ZeroDivisionError):
        if not _is_zero(coef):
            raise
        # The exact answer is 0. (Under create_graph the dependence on coef is
        # kept as coef * 0; what it drops, d coef * infinity, has no finite value.)
        return 0.0 if isinstance(coef, _REAL) else coef * 0.0
    return coef * power


class Op:
    """One entry of the table: a name for drawings, an arity, two rules and a formula.

    ``code`` is what ``autograd.compile`` generates source from: for unary and
    binary ops the templates the two rules were made from (see ``templated``),
    for n-ary ops an emitter beside the rule. ``node_step`` is set only for ops
    whose backward step needs the node itself (user closures, compiled calls).
    ``formula`` is the rule as a lecture writes it (tanh: ``1 - {out}^2``), for the
    stepper's explanations; the numbers always come from ``vjp``.
    """

    __slots__ = (
        "name", "arity", "forward", "vjp", "key", "custom", "code", "node_step", "formula"
    )

    def __init__(
        self, name: str, arity: int, forward: Callable, vjp: Callable, code: object = None,
        formula: tuple[str, ...] | Callable[[int, int], str] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity  # 1, 2, or 0 for n-ary
        self.forward = forward
        self.vjp = vjp
        self.key = None  # how pickle finds this op again: a global name, or (factory, args)
        self.custom = False  # True for micrograd-style nodes whose rule is a user closure
        self.code = code
        self.node_step = None  # (node, g) -> None, for rules that need the node
        # The local derivative in words a student reads (see ``Formula`` below): one
        # template per operand, or for n-ary ops a function (position, count) -> template.
        self.formula = formula

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __reduce__(self):
        """Pickle by reference, so a pickled graph never carries the rules' code."""
        if isinstance(self.key, str):
            return self.key
        if self.key is None:
            raise TypeError(f"Op {self.name!r} is not registered in autograd.ops; cannot pickle")
        return self.key


UNARY, BINARY, NARY = 1, 2, 0


class Templates:
    """An op's forward and derivative as expression templates.

    ``forward`` is an expression in ``{0}`` (and ``{1}``); ``grads`` holds one
    expression per operand in ``{0}``, ``{1}``, ``{g}`` (the gradient arriving at
    the output) and ``{out}`` (the output), or, as one string, an expression
    that gives all of them at once. The op's float rules are made from these
    strings (``templated``), and ``autograd.compile`` pastes the same strings
    into the code it generates, so a rule is written once.
    """

    __slots__ = ("forward", "grads", "vector")

    def __init__(self, forward: str, grads: str | tuple[str, ...],
                 vector: Vector | None = None) -> None:
        self.forward = forward
        self.grads = grads
        # the same rule over arrays, for ``step.map`` (see ``Vector``); None: the
        # scalar templates above already work on arrays as they are
        self.vector = vector

    def grad_expressions(self, operands: list[str], g: str, out: str) -> list[str] | str:
        """The derivative templates filled in: one expression per operand, or one
        expression for the tuple of them all."""
        if isinstance(self.grads, str):
            return self.grads.format(*operands, g=g, out=out)
        return [t.format(*operands, g=g, out=out) for t in self.grads]


class Vector:
    """An op's rule over arrays (numpy), beside its scalar templates, for ``step.map``.

    The same placeholders as ``Templates``; the names are numpy's (``where``,
    ``exp``, ``isfinite``...), bound by ``autograd.compile.vector``, so this
    module never imports numpy. ``forward``/``grads`` None: the scalar
    templates serve as they are. ``raises``: a mask of the examples whose eager
    forward raises (they are replayed one by one, so the error is eager's own);
    ``grad_raises``: the same for the derivative, from operands and output.
    """

    __slots__ = ("forward", "grads", "raises", "grad_raises")

    def __init__(self, forward: str | None = None, grads: tuple[str, ...] | None = None,
                 raises: str | None = None, grad_raises: str | None = None) -> None:
        self.forward = forward
        self.grads = grads
        self.raises = raises
        self.grad_raises = grad_raises


def templated(
    name: str, arity: int, forward: str, grads: str | tuple[str, ...],
    formula: tuple[str, ...] | None = None, vector: Vector | None = None,
) -> Op:
    """An op whose two rules are made from templates (see ``Templates``)."""
    code = Templates(forward, grads, vector)
    params = ["x"] if arity == UNARY else ["a", "b"]
    fwd = _rule(f"lambda {', '.join(params)}: {forward.format(*params)}")
    parts = code.grad_expressions(params, "g", "out")
    body = parts if isinstance(parts, str) else (
        parts[0] if arity == UNARY else f"({', '.join(parts)})"
    )
    vjp = _rule(f"lambda g, {', '.join(params)}, out: {body}")
    return Op(name, arity, fwd, vjp, code, formula)


def _rule(source: str) -> Callable:
    """A rule made from template text, with this module's helpers in scope."""
    return eval(source, globals())  # noqa: S307 - the text is this table's own templates


def number_literal(x: float) -> str:
    """Python source for a float that reads back as exactly the same float."""
    if x != x:
        return "nan"
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "(-inf)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


inf, nan = math.inf, math.nan  # names the templates and generated code use


# --- binary ------------------------------------------------------------------

def _div_forward(a, b):
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _pow_forward(a, b):
    """Value ** Value: the exponent is differentiable, so the base must be positive."""
    if not a > 0:
        raise ValueError("a Value exponent needs a positive base (d/db a**b = a**b log a)")
    return a**b


def _pow_vjp(g, a, b, out):
    return _times_power(g * b, a, b - 1), g * out * _log(a)


def _pow_number_forward(a, n):
    """Value ** number, with Python's float rules but no complex results.

    Only a finite negative base with a finite fractional exponent has no real
    value; infinities and NaN follow IEEE pow ((-2)**inf = inf, (-inf)**0.5 = inf).
    """
    n = float(n)
    if a < 0 and math.isfinite(a) and math.isfinite(n) and not n.is_integer():
        raise ValueError("a negative base cannot take a fractional power")
    return float(a**n)


def _pow_number_vjp(g, a, n, out):
    """The exponent is a constant leaf; like every constant it gets its gradient,
    out * log(a), where that exists (a > 0), and 0 where the base is not positive.

    For a positive base the exponent stays an operand of the base's gradient, so
    create_graph can differentiate it in either order; any other base takes the
    exponent as a plain number, where its derivative is 0 anyway.
    """
    if a > 0:
        dn = g * out * _log(a)
    else:
        dn, n = 0.0, float(n)
    return _times_power(g * n, a, n - 1.0), dn


ADD = templated("+", BINARY, "{0} + {1}", ("{g}", "{g}"), formula=("1", "1"))
SUB = templated("-", BINARY, "{0} - {1}", ("{g}", "-{g}"), formula=("1", "-1"))
MUL = templated("*", BINARY, "{0} * {1}", ("{g} * {1}", "{g} * {0}"), formula=("{1}", "{0}"))
DIV = templated("/", BINARY, "_div_forward({0}, {1})", ("{g} / {1}", "-{g} * {out} / {1}"),
                formula=("1 / {1}", "-{out} / {1}"),
    vector=Vector("{0} / {1}", raises="{1} == 0"),
)
PRELU = templated(  # x for x > 0, else slope * x; the slope is an operand, so it learns
    "prelu", BINARY, "({0} if {0} > 0 else {1} * {0})",
    ("({g} if {0} > 0 else {g} * {1})", "(0.0 if {0} > 0 else {g} * {0})"),
    formula=("1 if {0} > 0 else {1}", "0 if {0} > 0 else {0}"),
    vector=Vector("where({0} > 0, {0}, {1} * {0})",
                  ("where({0} > 0, {g}, {g} * {1})", "where({0} > 0, 0.0, {g} * {0})")),
)
POW = templated("**", BINARY, "_pow_forward({0}, {1})", "_pow_vjp({g}, {0}, {1}, {out})",
                formula=("{1} * {0}^({1} - 1)", "{out} * log({0})"),
    vector=Vector("power({0}, {1})", ("{g} * {1} * power({0}, {1} - 1)", "{g} * {out} * log({0})"),
                  raises="~({0} > 0) | (isinf({out}) & isfinite({0}) & isfinite({1}))",
                  grad_raises="isinf(power({0}, {1} - 1)) & isfinite({0}) & isfinite({1})"),
)
POW_NUMBER = templated(
    "**", BINARY, "_pow_number_forward({0}, {1})", "_pow_number_vjp({g}, {0}, {1}, {out})",
    formula=("{1} * {0}^({1} - 1)", "{out} * log({0})"),
    vector=Vector(
        "power({0}, {1})",
        ("{g} * {1} * power({0}, {1} - 1.0)", "where({0} > 0, {g} * {out} * log({0}), 0.0)"),
        # (-inf) ** fraction is inf in Python, NaN in numpy: replayed alone, like a raise
        raises="(({0} < 0) & ({1} != floor({1})))"
               " | (({0} == 0) & ({1} < 0)) | (isinf({out}) & isfinite({0}) & isfinite({1}))",
        grad_raises="(({0} == 0) & ({1} < 1)) | (isinf(power({0}, {1} - 1.0))"
                    " & isfinite({0}) & isfinite({1}))",
    ),
)


# --- unary -------------------------------------------------------------------

def _exp_forward(x):
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError("result overflows a float (exp(x) > 1.8e308 for x > 709.78)") from None


def _log_forward(x):
    if not x > 0 and x == x:  # NaN propagates; everything else not positive is a domain error
        raise ValueError("log is defined only for positive inputs")
    return math.log(x)


def _sqrt_forward(x):
    if x < 0:
        raise ValueError("sqrt is defined only for non-negative inputs")
    return math.sqrt(x)


def _sin_forward(x):
    """IEEE sin: NaN at +-inf (math.sin raises there)."""
    return math.sin(x) if x - x == 0 else math.nan


def _cos_forward(x):
    return math.cos(x) if x - x == 0 else math.nan


def _tanh_vjp(g, x, out):
    """1 - tanh^2, except in the tails where it cancels to 0: there the same
    quantity as 4 sigmoid(2x) sigmoid(-2x), which keeps every digit."""
    if -0.75 < out < 0.75:
        return g * (1.0 - out * out)
    return g * 4.0 * _sigmoid(2.0 * x) * _sigmoid(-2.0 * x)


def _sigmoid_vjp(g, x, out):
    """sigmoid (1 - sigmoid), with 1 - sigmoid(x) taken as sigmoid(-x) where
    the subtraction would cancel (out near 1)."""
    if out < 0.5:
        return g * out * (1.0 - out)
    return g * out * _sigmoid(-x)


def _sqrt_vjp(g, x, out):
    if out <= 0:  # 0 only: a NaN input lets its NaN gradient through, as other ops do
        raise ZeroDivisionError("the derivative 1/(2 sqrt(x)) is infinite at x = 0")
    return g / (2.0 * out)


def sigmoid_forward(x: float) -> float:
    """1 / (1 + e^-x), evaluated so that e^t never overflows."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_forward(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))) if x == x else x


def _relu_forward(x):
    return 0.0 if x <= 0 else x  # NaN falls through to the else branch


def _step_forward(x):
    """The lecture's threshold unit: g(s) = 1 for s >= 0, else 0."""
    return 1.0 if x >= 0 else (0.0 if x < 0 else x)


def _sign_forward(x):
    return 1.0 if x > 0 else (-1.0 if x < 0 else (0.0 if x == 0 else x))


def _abs_vjp(g, x, out):
    if x > 0:
        return g
    if x < 0:
        return -g
    return 0.0


def _zero_vjp(g, x, out):
    return 0.0


def _vsigmoid(x: str) -> str:
    """sigmoid_forward over arrays, as template text: e^t never overflows on the branch kept."""
    return f"where({x} >= 0, 1.0 / (1.0 + exp(-{x})), exp({x}) / (1.0 + exp({x})))"


NEG = templated("neg", UNARY, "-{0}", ("-{g}",), formula=("-1",))
ABS = templated("abs", UNARY, "abs({0})", ("_abs_vjp({g}, {0}, {out})",),
                formula=("sign({0})",),
    vector=Vector("absolute({0})", ("where({0} > 0, {g}, where({0} < 0, -{g}, 0.0))",)),
)
EXP = templated("exp", UNARY, "_exp_forward({0})", ("{g} * {out}",), formula=("e^{0} = {out}",),
    vector=Vector("exp({0})", raises="isinf({out}) & isfinite({0})"),
)
LOG = templated("log", UNARY, "_log_forward({0})", ("{g} / {0}",), formula=("1 / {0}",),
    vector=Vector("log({0})", raises="({0} <= 0)"),
)
SQRT = templated("sqrt", UNARY, "_sqrt_forward({0})", ("_sqrt_vjp({g}, {0}, {out})",),
                 formula=("1 / (2 sqrt({0})) = 1 / (2 * {out})",),
    vector=Vector("sqrt({0})", ("{g} / (2.0 * {out})",), raises="({0} < 0)",
                                grad_raises="({out} <= 0)"),
)
TANH = templated("tanh", UNARY, "tanh({0})", ("_tanh_vjp({g}, {0}, {out})",),
                 formula=("1 - tanh^2 = 1 - {out}^2",),
    vector=Vector("tanh({0})", (
        "where(absolute({out}) < 0.75, {g} * (1.0 - {out} * {out}),"
        f" {{g}} * 4.0 * {_vsigmoid('(2.0 * {0})')} * {_vsigmoid('(-2.0 * {0})')})",
    )),
)
SIGMOID = templated("sigmoid", UNARY, "sigmoid_forward({0})", ("_sigmoid_vjp({g}, {0}, {out})",),
                    formula=("sigma (1 - sigma) = {out} * (1 - {out})",),
    vector=Vector(_vsigmoid("{0}"), (
        "where({out} < 0.5, {g} * {out} * (1.0 - {out}),"
        f" {{g}} * {{out}} * {_vsigmoid('(-{0})')})",
    )),
)
SOFTPLUS = templated("softplus", UNARY, "_softplus_forward({0})", ("{g} * _sigmoid({0})",),
                     formula=("sigma({0})",),
    vector=Vector("where({0} == {0}, maximum({0}, 0.0) + log1p(exp(-absolute({0}))), {0})",
                  (f"{{g}} * {_vsigmoid('{0}')}",)),
)
RELU = templated("relu", UNARY, "(0.0 if {0} <= 0 else {0})", ("({g} if {0} > 0 else 0.0)",),
                 formula=("1 if {0} > 0 else 0",),
    vector=Vector("where({0} <= 0, 0.0, {0})", ("where({0} > 0, {g}, 0.0)",)),
)
SIN = templated("sin", UNARY, "_sin_forward({0})", ("{g} * _cos({0})",), formula=("cos({0})",),
    vector=Vector("sin({0})", ("{g} * cos({0})",)),
)
COS = templated("cos", UNARY, "_cos_forward({0})", ("-{g} * _sin({0})",),
                formula=("-sin({0})",),
    vector=Vector("cos({0})", ("-{g} * sin({0})",)),
)
STEP = templated("step", UNARY, "_step_forward({0})", ("0.0",), formula=("0 (flat steps)",),
    vector=Vector("where({0} >= 0, 1.0, where({0} < 0, 0.0, {0}))"),
)
SIGN = templated("sign", UNARY, "_sign_forward({0})", ("0.0",), formula=("0 (flat steps)",),
    vector=Vector("where({0} > 0, 1.0, where({0} < 0, -1.0, where({0} == 0, 0.0, {0})))"),
)


@lru_cache(maxsize=256)
def leaky_relu(negative_slope: float) -> Op:
    """The op for one slope; cached, so nodes share it and carry no parameters."""
    s = number_literal(float(negative_slope))
    op = templated(
        "leaky_relu", UNARY, f"({{0}} if {{0}} > 0 else {s} * {{0}})",
        (f"({{g}} if {{0}} > 0 else {{g}} * {s})",),
        formula=(f"1 if {{0}} > 0 else {s}",),
        vector=Vector(f"where({{0}} > 0, {{0}}, {s} * {{0}})",
                      (f"where({{0}} > 0, {{g}}, {{g}} * {s})",)),
    )
    op.key = (leaky_relu, (float(negative_slope),))
    return op


@lru_cache(maxsize=256)
def elu(alpha: float) -> Op:
    """x for x > 0, else alpha (e^x - 1); the derivative there is alpha e^x.

    (Not out + alpha: for x << 0 that sum cancels to 0.)
    """
    a = number_literal(float(alpha))
    op = templated(
        "elu", UNARY, f"({{0}} if {{0}} > 0 else {a} * expm1({{0}}))",
        (f"({{g}} if {{0}} > 0 else {{g}} * {a} * _exp({{0}}))",),
        formula=(f"1 if {{0}} > 0 else {a} * e^{{0}}",),
        vector=Vector(f"where({{0}} > 0, {{0}}, {a} * expm1({{0}}))",
                      (f"where({{0}} > 0, {{g}}, {{g}} * {a} * exp({{0}}))",)),
    )
    op.key = (elu, (float(alpha),))
    return op


@lru_cache(maxsize=256)
def hardtanh(min_val: float, max_val: float) -> Op:
    """Clamp to [min_val, max_val]; the derivative is 0 at and beyond the bounds."""
    lo, hi = number_literal(float(min_val)), number_literal(float(max_val))
    op = templated(
        "hardtanh", UNARY, f"({lo} if {{0}} < {lo} else ({hi} if {{0}} > {hi} else {{0}}))",
        (f"({{g}} if {lo} < {{0}} < {hi} else 0.0)",),
        formula=(f"1 if {lo} < {{0}} < {hi} else 0",),
        vector=Vector(f"where({{0}} < {lo}, {lo}, where({{0}} > {hi}, {hi}, {{0}}))",
                      (f"where(({lo} < {{0}}) & ({{0}} < {hi}), {{g}}, 0.0)",)),
    )
    op.key = (hardtanh, (float(min_val), float(max_val)))
    return op


# --- n-ary -------------------------------------------------------------------

def _closure_step(node, g) -> None:
    """A micrograd-style node's backward step: the user's closure, if assigned."""
    if node._b is not None:
        node._b()


def _custom_forward(xs):
    raise TypeError("a node made with Value(data, _children, _op) has no forward rule to replay")


@lru_cache(maxsize=256)
def custom(name: str) -> Op:
    """The op of micrograd-style nodes named ``name`` (``Value(t, (x,), 'tanh')``).

    Its derivative rule is not in this table: it is the ``_backward`` closure the
    user assigns to each node (kept in the node's ``_b`` slot), which backward()
    calls. Until one is assigned the node passes nothing on, as in micrograd.
    """
    op = Op(name, NARY, _custom_forward, lambda g, operands, out: None,
            formula=lambda i, n: "what the node's _backward closure adds")
    op.custom = True
    op.node_step = _closure_step
    op.key = (custom, (name,))
    return op


def _dot_forward(xs):
    n = len(xs) // 2
    total = float(sum(map(mul, xs, xs[n : 2 * n])))  # map stops after the n weights
    return total + xs[-1] if len(xs) % 2 else total


def dot_sum(w_data: list, x_data: list) -> float:
    """_dot_forward without the bias, on the weights' and inputs' floats apart: the
    same sum in the same order, for ``dots``, which reads the inputs once per layer
    (the bias, if any, is then added to this, as _dot_forward adds it)."""
    return float(sum(map(mul, w_data, x_data)))


def _dot_vjp(g, operands, out):
    """Operands are laid out w_1..w_n, x_1..x_n, then an optional bias:
    d/dw_i = x_i, d/dx_i = w_i, d/db = 1."""
    n = len(operands) // 2
    i = n  # x_i is read by index: one slice, not two, on the hottest rule of an MLP
    for w in operands[:n]:
        x = operands[i]
        i += 1
        w.grad += g * x.data
        x.grad += g * w.data
    if len(operands) % 2:
        operands[-1].grad += g


def _sum_vjp(g, operands, out):
    for p in operands:
        p.grad += g


def _max_forward(xs):
    """max, except that a NaN anywhere makes the result NaN (Python's max drops it)."""
    for x in xs:
        if x != x:
            return x
    return max(xs)


def _max_index(xs) -> int:
    """Where the gradient of max goes: the first maximal input (the first NaN, if any)."""
    best = 0
    for i, x in enumerate(xs):
        if _is_nan(x):
            return i
        if x > xs[best]:
            best = i
    return best


def _max_vjp(g, operands, out):
    """The whole gradient goes to the first maximal input (the first NaN, if any)."""
    operands[_max_index([p.data for p in operands])].grad += g


def _logsumexp_forward(xs):
    """log(sum e^x), shifted by the largest finite input so no e^x overflows.

    A NaN anywhere gives NaN; +inf anywhere gives +inf; all -inf gives -inf.
    """
    top = -math.inf
    for x in xs:
        if x != x:
            return x
        if x > top:
            top = x
    if math.isinf(top):
        return top
    return top + math.log(math.fsum(math.exp(x - top) for x in xs))


def _logsumexp_vjp(g, operands, out):
    """d/dx_i = softmax_i = e^(x_i - out): at most 1, so it never overflows."""
    for p in operands:
        p.grad += g * _exp(p.data - out)


class NaryCode:
    """How ``autograd.compile`` writes an n-ary op as code, beside its rule.

    ``forward(names)`` is an expression for the output, or a list of terms
    that add up to it left to right (so long sums can be split over lines in
    the same order); ``grads(names, g, out)``
    gives setup lines and one gradient expression per operand, each the code
    form of what the rule above adds to that operand.
    """

    __slots__ = ("forward", "grads", "vector")

    def __init__(self, forward: Callable, grads: Callable,
                 vector: tuple[Callable, Callable] | None = None) -> None:
        self.forward = forward
        self.grads = grads
        # the rule over arrays for ``step.map``: (forward, grads) emitters, each
        # giving (setup lines, expression(s)) in numpy's names; None: the two
        # emitters above already work on arrays
        self.vector = vector


def _dot_code_forward(xs: list[str]) -> list[str]:
    """The terms of _dot_forward, in its order: 0 + w_1 x_1 + ... + w_n x_n, then + b."""
    n = len(xs) // 2
    terms = ["0.0"] + [f"{w} * {x}" for w, x in zip(xs[:n], xs[n : 2 * n], strict=True)]
    return terms + [xs[-1]] if len(xs) % 2 else terms


def _dot_code_grads(xs: list[str], g: str, out: str) -> tuple[list[str], list[str]]:
    n = len(xs) // 2
    grads = [f"{g} * {x}" for x in xs[n : 2 * n]] + [f"{g} * {w}" for w in xs[:n]]
    return [], grads + ([g] if len(xs) % 2 else [])


def _max_code_grads(xs: list[str], g: str, out: str) -> tuple[list[str], list[str]]:
    k = f"k_{out}"
    return [f"{k} = _max_index(({', '.join(xs)},))"], [
        f"({g} if {k} == {i} else 0.0)" for i in range(len(xs))
    ]


def _max_vector_forward(xs: list[str], out: str) -> tuple[list[str], str]:
    """NaN-propagating max over arrays: numpy's maximum keeps a NaN, as _max_forward does."""
    expr = xs[0]
    for x in xs[1:]:
        expr = f"maximum({expr}, {x})"
    return [], expr


def _max_vector_grads(xs: list[str], g: str, out: str) -> tuple[list[str], list[str]]:
    """_max_index per example: the first NaN, else the first strictly larger input."""
    k, best, done, take = f"k_{out}", f"best_{out}", f"done_{out}", f"take_{out}"
    setup = [f"{k} = 0", f"{best} = {xs[0]}", f"{done} = isnan({xs[0]})"]
    for i, x in enumerate(xs[1:], 1):
        setup += [
            f"{take} = ~{done} & (isnan({x}) | ({x} > {best}))",
            f"{k} = where({take}, {i}, {k})",
            f"{best} = where({take}, {x}, {best})",
            f"{done} = {done} | isnan({x})",
        ]
    return setup, [f"where({k} == {i}, {g}, 0.0)" for i in range(len(xs))]


def _logsumexp_vector_forward(xs: list[str], out: str) -> tuple[list[str], str]:
    """_logsumexp_forward over arrays: shift by the largest input; NaN and +-inf pass."""
    top = f"top_{out}"
    setup = [f"{top} = {_max_vector_forward(xs, out)[1]}"]
    terms = " + ".join(f"exp({x} - {top})" for x in xs)
    return setup, f"where(isfinite({top}), {top} + log({terms}), {top})"


def _dot_formula(i: int, n: int) -> str:
    """The other factor of each product: x_i for w_i, w_i for x_i; 1 for the bias."""
    half = n // 2
    if i >= 2 * half:
        return "1"
    return f"{{{i + half}}}" if i < half else f"{{{i - half}}}"


SUM = Op("sum", NARY, lambda xs: float(sum(xs)), _sum_vjp, NaryCode(
    lambda xs: ["0.0", *xs], lambda xs, g, out: ([], [g] * len(xs))
), formula=lambda i, n: "1")
DOT = Op("dot", NARY, _dot_forward, _dot_vjp, NaryCode(_dot_code_forward, _dot_code_grads),
         formula=_dot_formula)
MAX = Op("max", NARY, _max_forward, _max_vjp, NaryCode(
    lambda xs: f"_max_forward(({', '.join(xs)},))", _max_code_grads,
    vector=(_max_vector_forward, _max_vector_grads),
), formula=lambda i, n: "1 for the first largest input, else 0")
LOGSUMEXP = Op("logsumexp", NARY, _logsumexp_forward, _logsumexp_vjp, NaryCode(
    lambda xs: f"_logsumexp_forward(({', '.join(xs)},))",
    lambda xs, g, out: ([], [f"{g} * _exp({x} - {out})" for x in xs]),
    vector=(_logsumexp_vector_forward,
            lambda xs, g, out: ([], [f"{g} * exp({x} - {out})" for x in xs])),
), formula=lambda i, n: f"softmax = e^({{{i}}} - {{out}})")


def _register_names() -> None:
    """Give every module-level op its global name, which is how pickle finds it."""
    for name, op in globals().items():
        if isinstance(op, Op):
            op.key = name


_register_names()
