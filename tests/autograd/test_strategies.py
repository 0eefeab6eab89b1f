"""autograd.strategies: finite by construction, shared nodes, and a lazy hypothesis import."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, grad
from autograd.strategies import (
    ALL_OPS,
    NONSMOOTH_OPS,
    SMOOTH_OPS,
    RandomFunction,
    expressions,
    functions,
    values,
)

SCALE = max(1, settings.default.max_examples // 100)  # 10x under the "thorough" profile
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIND = settings(max_examples=500, deadline=None, database=None)


def nodes_of(root):
    """Every node behind ``root`` (public API only), and how many consumers each has."""
    seen, stack, consumers = {root}, [root], {}
    while stack:
        node = stack.pop()
        for p in node.parents:
            consumers[p] = consumers.get(p, 0) + 1
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen, consumers


# --- finite by construction --------------------------------------------------------------

@settings(max_examples=60 * SCALE, deadline=None)
@given(st.lists(values(-1e6, 1e6), min_size=1, max_size=3), st.data())
def test_every_expression_is_finite_with_finite_derivatives(leaves, data):
    out = data.draw(expressions(leaves, ops=ALL_OPS, max_ops=10), label="out")
    nodes, _ = nodes_of(out)
    assert all(math.isfinite(n.data) for n in nodes)
    assert all(math.isfinite(g.data) for g in grad(out, leaves))
    assert all(math.isfinite(g.data) for g in grad(out, leaves, create_graph=True))


@settings(max_examples=40 * SCALE, deadline=None)
@given(st.lists(values(-1e300, 1e300), min_size=1, max_size=2), st.data())
def test_expressions_are_finite_even_for_huge_leaves(leaves, data):
    out = data.draw(expressions(leaves, ops=ALL_OPS), label="out")
    assert math.isfinite(out.data)


@pytest.mark.parametrize("op", ALL_OPS)
@settings(max_examples=10 * SCALE, deadline=None)
@given(data=st.data())
def test_each_op_alone_is_finite_and_is_the_output(op, data):
    leaves = data.draw(st.lists(values(), min_size=1, max_size=3), label="leaves")
    out = data.draw(expressions(leaves, ops=[op], max_ops=4), label="out")
    assert math.isfinite(out.data)
    assert out.op == {"maximum": "max"}.get(op, op)


def _table_op_names() -> dict[str, str]:
    """Every op of autograd/ops.py's table, by the name its nodes carry: the module-level
    ops and those the cached factories make (leaky_relu(slope), ...). ``custom`` is left
    out: its rule is a user's closure, not an entry of the table."""
    import inspect

    from autograd import ops

    found = {op.name: name for name, op in vars(ops).items() if isinstance(op, ops.Op)}
    for name, factory in vars(ops).items():
        if hasattr(factory, "cache_info") and name != "custom":
            args = [0.5 + i for i in range(len(inspect.signature(factory).parameters))]
            found[factory(*args).name] = f"{name}(...)"
    return found


def test_every_op_of_the_table_has_a_strategy():
    """Fails when an op is added to autograd/ops.py and the strategies never draw it."""
    table = _table_op_names()
    assert {"+", "prelu", "logsumexp", "max", "leaky_relu", "hardtanh"} <= set(table)
    drawn = {{"maximum": "max"}.get(name, name) for name in ALL_OPS}
    missing = sorted(f"{op} ({table[op]})" for op in set(table) - drawn)
    assert missing == [], f"ops of autograd/ops.py with no strategy: {missing}"


@pytest.mark.parametrize("op, table_name", [("prelu", "prelu"), ("logsumexp", "logsumexp")])
def test_the_once_missing_ops_are_drawn(op, table_name):
    out = find(expressions([Value(0.3), Value(-2.0)], ops=[op], max_ops=3),
               lambda v: v.op == table_name, settings=FIND)
    assert math.isfinite(out.data)


@settings(max_examples=40 * SCALE, deadline=None)
@given(functions(bound=1000.0), st.data())
def test_functions_are_finite_within_their_bound(fn, data):
    f, n = fn
    xs = data.draw(st.lists(st.floats(-1000, 1000), min_size=n, max_size=n), label="xs")
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    assert math.isfinite(out.data)
    assert all(math.isfinite(g.data) for g in grad(out, leaves))


# --- shared nodes -------------------------------------------------------------------------

def test_leaves_are_shared():
    x, y = Value(0.5), Value(-1.5)

    def leaf_used_twice(out):
        _, consumers = nodes_of(out)
        return consumers.get(x, 0) >= 2 or consumers.get(y, 0) >= 2

    find(expressions([x, y], max_ops=4), leaf_used_twice, settings=FIND)


def test_interior_nodes_are_shared_making_diamonds():
    x, y = Value(0.5), Value(-1.5)

    def diamond(out):
        _, consumers = nodes_of(out)
        return any(n.parents and c >= 2 for n, c in consumers.items())

    out = find(expressions([x, y], max_ops=4), diamond, settings=FIND)
    assert diamond(out)


def test_steps_reuse_earlier_results_not_only_the_newest():
    def reuses_an_older_step(fn):
        f, n = fn
        for k, line in enumerate(f.source.splitlines()[1:-1], start=n):
            used = {int(j) for j in re.findall(r"\bv(\d+)\b", line.split("=", 1)[1])}
            if any(j < k - 1 for j in used):  # v_k uses a step before v_(k-1)
                return True
        return False

    find(functions(min_ops=3), reuses_an_older_step, settings=FIND)


# --- functions() -------------------------------------------------------------------------

@settings(max_examples=30 * SCALE, deadline=None)
@given(functions())
def test_function_arity_matches(fn):
    f, n = fn
    assert isinstance(f, RandomFunction)
    assert f.arity == n and 1 <= n <= 3
    assert isinstance(f(*[Value(0.5)] * n), Value)
    with pytest.raises(TypeError, match="takes"):
        f(*[Value(0.5)] * (n + 1))


@pytest.mark.parametrize("arity", [1, 2, 5])
def test_a_fixed_arity_is_respected(arity):
    @settings(max_examples=5, deadline=None)
    @given(functions(arity=arity))
    def check(fn):
        assert fn[1] == arity and fn[0].arity == arity

    check()


@settings(max_examples=5, deadline=None)
@given(functions(arity=st.sampled_from([4, 6])))
def test_an_arity_strategy_is_drawn_from(fn):
    assert fn[1] in (4, 6) and fn[0].arity == fn[1]


@settings(max_examples=30 * SCALE, deadline=None)
@given(functions(ops=ALL_OPS), st.lists(st.floats(-10, 10), min_size=3, max_size=3))
def test_a_function_is_deterministic_and_its_source_runs(fn, xs):
    f, n = fn
    first = f(*[Value(x) for x in xs[:n]]).data
    again = f(*xs[:n]).data  # plain numbers are accepted too
    assert first == again
    namespace = {"autograd": autograd}
    exec(f.source, namespace)  # the code hypothesis would show on a failure
    assert namespace["f"](*[Value(x) for x in xs[:n]]).data == first
    assert f.source.splitlines()[0].startswith("def f(")
    assert repr(f).startswith("<f(")


def test_functions_build_a_fresh_graph_per_call():
    f, n = find(functions(arity=1), lambda fn: True, settings=FIND)
    x = Value(0.3)
    assert f(x) is not f(x)


# --- arguments -----------------------------------------------------------------------------

MAKERS = {
    "expressions": lambda ops: expressions([Value(1.0)], ops=ops),
    "functions": lambda ops: functions(ops=ops),
}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_unknown_op_names_are_rejected_with_the_valid_ones(make):
    with pytest.raises(ValueError, match="'frobnicate'") as info:
        make(["tanh", "frobnicate"])
    for name in ALL_OPS:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="at least one"):
        make([])


def test_op_groups():
    assert set(SMOOTH_OPS).isdisjoint(NONSMOOTH_OPS)
    assert set(ALL_OPS) == set(SMOOTH_OPS) | set(NONSMOOTH_OPS)
    assert {"+", "-", "*", "/", "**", "exp", "log", "sqrt", "sum", "dot"} <= set(SMOOTH_OPS)
    assert {"relu", "abs", "step", "sign", "maximum", "hardtanh"} <= set(NONSMOOTH_OPS)


def test_argument_checks():
    with pytest.raises(ValueError, match="min_value"):
        values(min_value=5, max_value=1)
    with pytest.raises(ValueError, match="finite"):
        values(min_value=-math.inf)
    with pytest.raises(TypeError, match="label"):
        values(label=3)
    with pytest.raises(ValueError, match="arity"):
        functions(arity=0)
    with pytest.raises(ValueError, match="max_ops"):
        functions(max_ops=0)
    with pytest.raises(ValueError, match="min_ops"):
        expressions([Value(1.0)], min_ops=3, max_ops=2)
    with pytest.raises(ValueError, match="bound"):
        functions(bound=0)
    with pytest.raises(ValueError, match="empty"):
        expressions([])
    with pytest.raises(TypeError, match=r"leaves\[1\]"):
        expressions([Value(1.0), 2.0])
    with pytest.raises(ValueError, match="finite"):
        expressions([Value(math.inf)])


@settings(max_examples=20 * SCALE, deadline=None)
@given(values(-2, 3, label="w"))
def test_values_are_labelled_leaves_in_range(v):
    assert isinstance(v, Value) and v.op == "" and v.parents == ()
    assert -2 <= v.data <= 3 and v.label == "w"


@settings(max_examples=20 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(values()))
def test_expressions_take_a_strategy_of_values(out):
    nodes, _ = nodes_of(out)
    leaves = [n for n in nodes if not n.parents and not isinstance(n, autograd.Constant)]
    assert 1 <= len(leaves) <= 3
    assert math.isfinite(out.data)


# --- the lazy import ----------------------------------------------------------------------

def test_importing_autograd_does_not_import_hypothesis():
    code = (
        "import sys, autograd, autograd.gradcheck, autograd.hessian\n"
        "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'\n"
        "import autograd.strategies\n"
        "assert 'hypothesis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_without_hypothesis_the_import_names_the_extra(tmp_path):
    """As the other extras do: the message says what to install, from an index or a clone."""
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "import autograd\n"
        "try:\n"
        "    import autograd.strategies\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": REPO})
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("autograd.strategies needs the optional package 'hypothesis'")
    assert 'pip install "chainrule[testing]"' in line
    assert 'pip install -e ".[testing]"' in line
