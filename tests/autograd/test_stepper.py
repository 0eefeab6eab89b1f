"""autograd.viz.step_through / show_steps: the page that walks backward one node at a time.

The page's numbers are read from the step data it embeds (a JSON script element)
and checked against ``autograd.grad``; the browser tests drive headless Chromium
through selenium, open the page from a file:// URL and click through it. They are
skipped, with the reason, where Chromium, chromedriver or selenium is missing.
"""

from __future__ import annotations

import html
import inspect
import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import autograd
from autograd import Value, grad, topological_order, viz
from autograd.lecture import build

pytest.importorskip("graphviz")

SHOTS = Path(os.environ.get("STEPPER_SHOTS", "/tmp/stepper_shots"))
LECTURE_GRADS = {"w_x": -6.0, "w_y": 14.0, "w_q": 4.0, "w_z": -5.0}


# --- helpers --------------------------------------------------------------------------------


def step_data(page: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="step-data">(.*?)</script>', page, re.S
    )
    assert match, "the page embeds its steps as JSON"
    return json.loads(match.group(1))


def number(x) -> float:
    """A number from the step data (non-finite ones are strings there)."""
    return float(x)


class _Tags(HTMLParser):
    """Every start tag with its attributes, as the browser's HTML parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def lecture_page(**options) -> tuple[str, dict, dict]:
    f, nodes = build()
    page = viz.step_through(f, **options)
    return page, step_data(page), nodes


def backward(data: dict) -> list[dict]:
    return [s for s in data["steps"] if s["kind"] == "backward"]


def by_name(data: dict) -> dict[str, dict]:
    """The backward step of each node, by the name the page gives it."""
    return {s["name"]: s for s in backward(data)}


def chain(step: dict) -> str:
    """The chain-rule line: the last line of a backward step's formula."""
    return step["formula"].splitlines()[-1]


# --- the steps and their numbers --------------------------------------------------------------


def test_lecture_page_tells_forward_then_backward_then_the_summary():
    f, nodes = build()
    page = viz.step_through(f)
    data = step_data(page)
    order = topological_order(f)
    steps = data["steps"]
    kinds = [s["kind"] for s in steps]
    interior = [v for v in order if v.parents]
    assert kinds == ["graph"] + ["forward"] * len(interior) + ["backward"] * len(order) + [
        "summary"
    ]
    assert f'id="step-counter" aria-live="polite">0 / {len(steps) - 1}<' in page
    # forward: each interior node's value, operands first, with its numbers
    forward = [s for s in steps if s["kind"] == "forward"]
    # in the order the lecture computes them: w_x x, w_y y, q, q w_q, w_z z, f
    assert [number(s["data"]) for s in forward] == [-3.0, 7.0, 4.0, 8.0, -5.0, 3.0]
    q = next(s for s in forward if s["name"] == "q")
    assert q["formula"] == "q = w_x*x + w_y*y = (-3) + 7 = 4"
    named = by_name(data)
    for label, expected in LECTURE_GRADS.items():
        assert number(named[label]["grad"]) == expected
        assert named[label]["grad_text"] == f"{expected:g}"
    # the local rule (the op table's formula, then its numbers), then the chain rule
    assert named["w_x"]["formula"].splitlines() == [
        "d(w_x*x)/dw_x = x = -3",
        "df/dw_x = df/d(w_x*x) * d(w_x*x)/dw_x = 2 * (-3) = -6",
    ]
    assert chain(named["w_y"]).endswith("= 2 * 7 = 14")
    assert chain(named["w_q"]).endswith("= 1 * 4 = 4")
    assert chain(named["w_z"]).endswith("= 1 * (-5) = -5")
    assert named["q"]["formula"].splitlines()[0] == "d(q*w_q)/dq = w_q = 2"
    assert named["w_x*x"]["formula"].splitlines()[0] == "dq/d(w_x*x) = 1"
    # every backward step's number is d f / d node, as grad() gives it
    expected = {v: g.data for v, g in zip(order, grad(f, order), strict=True)}
    assert sorted(number(s["grad"]) for s in backward(data)) == sorted(expected.values())
    # the summary answers the lecture's question: decrease w_y, rather than increase w_x
    summary = steps[-1]
    assert summary["best"] == "w_y"
    assert "decrease w_y" in summary["words"] and "increase w_x" in summary["words"]
    assert summary["formula"].splitlines()[:2] == [
        "df/dw_y = 14   (decrease w_y to lower f)",
        "df/dw_x = -6   (increase w_x to lower f)",
    ]
    assert {k: number(v) for k, v in summary["gradients"].items() if k in LECTURE_GRADS} == (
        LECTURE_GRADS
    )


def test_names_on_the_page_are_names_on_the_drawing():
    # notebook-style labels: the page says "c", the drawing shows the whole label
    w, x = Value(2.0, label="w_x"), Value(-3.0, label="x")
    c = w * x
    c.label = "c = w_x x"
    out = (c * 2.0 + x).tanh()
    out.label = "L"
    page = viz.step_through(out)
    data = step_data(page)
    names = [s["name"] for s in data["steps"] if "name" in s and s["kind"] != "summary"]
    assert "c" in names and not any("=" in n for n in names)
    drawn = set(re.findall(r'<text[^>]*>([^<]*)</text>', page))
    for name in set(names) - {"L"}:
        shown = html.escape(name).replace("-", "&#45;")
        assert any(shown == t or t.startswith(shown + " =") for t in drawn), name
    # steps that only move gradient into constants are left out
    assert "2" not in names and "c*2" in names


def test_steps_follow_backward_order_and_leaves_follow_their_last_consumer():
    x, y = Value(1.5, label="x"), Value(-0.5, label="y")
    a = x * y
    b = a.tanh() + x
    out = b * a + y.exp()
    out.label = "out"
    page = viz.step_through(out)
    data = step_data(page)
    order = topological_order(out)
    ids = {f"v{i}": v for i, v in enumerate(order)}  # nothing is cut: draw's ids
    visited = [ids[s["node"]] for s in backward(data)]
    assert len(visited) == len(order) and set(visited) == set(order)
    interior = [v for v in order if v.parents]  # topological_order: backward's order, reversed
    assert [v for v in visited if v.parents] == interior[::-1]
    assert visited[0] is out
    for k, v in enumerate(visited):
        users = [c for c in order if v in c.parents]
        assert all(visited.index(c) < k for c in users)  # its gradient is complete by now
        if not v.parents:  # a leaf: right after the visit that completes it
            assert visited[k - 1] in users or not visited[k - 1].parents


def test_several_consumers_each_contribution_shown_and_summed():
    x = Value(0.5, label="x")
    s = x.sin()
    c = x * s  # c's operands depend on each other: the local derivative is sin(x) alone
    sq = x * x  # x used twice by one node
    out = c + sq + 3 * x
    out.label = "out"
    data = step_data(viz.step_through(out))
    step = by_name(data)["x"]
    contributions = {k["consumer"]: k for k in step["contributions"]}
    assert set(contributions) == {"x*sin(x)", "sin(x)", "x*x", "3*x"}
    assert number(contributions["x*sin(x)"]["local"]) == pytest.approx(math.sin(0.5), rel=1e-12)
    assert number(contributions["sin(x)"]["local"]) == pytest.approx(math.cos(0.5), rel=1e-12)
    assert number(contributions["x*x"]["local"]) == pytest.approx(1.0)  # 2x, both uses
    assert contributions["x*x"]["uses"] == 2
    assert number(contributions["3*x"]["local"]) == 3.0
    total = sum(number(k["product"]) for k in step["contributions"])
    (expected,) = grad(out, [x])
    assert total == pytest.approx(expected.data, rel=1e-12)
    assert number(step["grad"]) == expected.data
    assert "feeds 4 nodes" in step["words"] and "uses x 2 times" in step["words"]
    # the formula shows each product and then the sum
    assert chain(step).startswith("dout/dx = dout/d(x*sin(x)) * d(x*sin(x))/dx + ")
    assert chain(step).count(" * ") == 8 and chain(step).endswith(
        f"= {expected.data:.4g}"
    )


def test_every_step_sums_its_contributions_to_its_gradient():
    # a small net with shared weights and dependent operands everywhere
    w = [Value(v, label=f"w{i}") for i, v in enumerate((0.3, -1.2, 0.8))]
    h = (w[0] * w[1] + w[2]).tanh()
    g = h * w[0] + (h * h).sigmoid() - w[1] / (1 + w[2] * w[2])
    loss = (g - 0.5) ** 2
    loss.label = "loss"
    data = step_data(viz.step_through(loss))
    order = topological_order(loss)
    expected = {f"v{i}": gv.data for i, gv in enumerate(grad(loss, order))}
    for step in backward(data)[1:]:  # after the root
        total = sum(number(k["product"]) for k in step["contributions"])
        assert total == pytest.approx(expected[step["node"]], rel=1e-9, abs=1e-12)
        assert number(step["grad"]) == expected[step["node"]]


def _every_op():
    a, b, c = Value(0.7, label="a"), Value(-1.3, label="b"), Value(2.1, label="c")
    parts = [
        a + b, a - 2, 3 - b, a * b, a / c, 1 / b, a**2, c**a, 2**b, -a, abs(b), a * a,
        c.exp(), c.log(), c.sqrt(), a.tanh(), b.sigmoid(), a.softplus(), b.relu(), a.relu(),
        a.sin(), b.cos(), a.step(), b.sign(),
        autograd.sum([a, b, c, a]), autograd.dot([a, b], [c, a], bias=b), autograd.dot([a], [b]),
        autograd.maximum([a, b, c]), autograd.logsumexp([a, b, c]),
        # operands that depend on one another: grad() on the graph must take paths out
        a.sin() * a, (a * b) + a, autograd.dot([a, a * b], [a.exp(), b], bias=a * b * c),
        a.leaky_relu(0.2), b.elu(0.5), c.hardtanh(-1.0, 1.0),
    ]
    out = autograd.sum([p * (k + 1) for k, p in enumerate(parts)])
    out.label = "out"
    return out, parts


def test_local_derivatives_are_exact_for_every_op():
    out, parts = _every_op()
    data = step_data(viz.step_through(out, max_nodes=None))
    order = topological_order(out)
    expected = {f"v{i}": gv.data for i, gv in enumerate(grad(out, order))}
    for step in backward(data)[1:]:
        total = sum(number(k["product"]) for k in step["contributions"])
        assert total == pytest.approx(expected[step["node"]], rel=1e-12, abs=1e-12)

    # every contribution's local derivative is the op table's rule, through local_partials
    for step in backward(data)[1:]:
        for k in step["contributions"]:
            assert k["local"] is not None


def test_local_partials_equal_central_differences():
    """backward.local_partials (the op table's own rule) against finite differences of
    each op's forward, operand by operand, for every op of the table."""
    from autograd.backward import local_partials

    out, parts = _every_op()
    checked = set()
    for node in topological_order(out):
        if not node.parents:
            continue
        partials = local_partials(node)
        assert len(partials) == len(node.parents)
        for i, p in enumerate(node.parents):
            if node.op in ("step", "sign"):
                assert partials[i] == 0.0
                continue
            h = 1e-6 * max(1.0, abs(p.data))
            numeric = (_replay(node, i, p.data + h) - _replay(node, i, p.data - h)) / (2 * h)
            assert partials[i] == pytest.approx(numeric, rel=1e-6, abs=1e-6), (node.op, i)
        checked.add(node.op)
    assert checked >= {"+", "-", "*", "/", "**", "neg", "abs", "exp", "log", "sqrt", "tanh",
                       "sigmoid", "softplus", "relu", "sin", "cos", "sum", "dot", "max",
                       "logsumexp", "leaky_relu", "elu", "hardtanh"}


def _replay(node: Value, position: int, value: float) -> float:
    """The node's op applied to its operands' data with one operand position moved."""
    from autograd import ops

    table = {op.name: op for op in vars(ops).values() if isinstance(op, ops.Op)}
    xs = [p.data for p in node.parents]
    xs[position] = value
    op = _op_of(node, table)
    if op.arity == 1:
        return op.forward(xs[0])
    if op.arity == 2:
        return op.forward(xs[0], xs[1])
    return op.forward(xs)


def _op_of(node: Value, table):
    """The table entry behind a node, found by its name (ops made by a factory are
    remade from the slopes and bounds these tests used)."""
    from autograd import ops

    made = {"leaky_relu": ops.leaky_relu(0.2), "elu": ops.elu(0.5),
            "hardtanh": ops.hardtanh(-1.0, 1.0)}
    if node.op == "**":
        return ops.POW_NUMBER if node.parents[1].is_constant else ops.POW
    return made.get(node.op) or table[node.op]


def test_every_op_of_the_table_has_a_formula():
    """The stepper explains each local rule with the table's formula: every op has one,
    one template per operand, naming only operands that exist."""
    from autograd import ops

    entries = [op for op in vars(ops).values() if isinstance(op, ops.Op)]
    entries += [ops.leaky_relu(0.1), ops.elu(1.0), ops.hardtanh(-1.0, 1.0), ops.custom("f")]
    assert len(entries) >= 27
    for op in entries:
        assert op.formula is not None, op.name
        n = {1: 1, 2: 2}.get(op.arity, 5)
        templates = op.formula if not callable(op.formula) else [
            op.formula(i, n) for i in range(n)
        ]
        assert len(templates) == n, op.name
        for t in templates:
            assert t.strip(), op.name
            t.format(*[f"o{i}" for i in range(n)], out="out")  # placeholders resolve


def test_local_rules_shown_for_tanh_sigmoid_power_and_dot():
    s = Value(1.0986122886681098, label="s")  # tanh(s) = 0.8
    h = s.tanh()
    h.label = "h"
    data = step_data(viz.step_through(h))
    rule = by_name(data)["s"]["formula"].splitlines()[0]
    assert rule == "dh/ds = 1 - tanh^2 = 1 - out^2 = 1 - 0.8^2 = 0.36"
    z = Value(0.5, label="z")
    y = z.sigmoid()
    y.label = "y"
    rule = by_name(step_data(viz.step_through(y)))["z"]["formula"].splitlines()[0]
    assert rule.startswith("dy/dz = sigma (1 - sigma) = out * (1 - out) = 0.6225 * (1 - 0.6225)")
    x = Value(3.0, label="x")
    p = x**2
    p.label = "p"
    rule = by_name(step_data(viz.step_through(p)))["x"]["formula"].splitlines()[0]
    assert rule == "dp/dx = 2 * x^(2 - 1) = 2 * 3^(2 - 1) = 6"
    w, a = Value(0.5, label="w"), Value(-2.0, label="a")
    d = autograd.dot([w], [a])
    d.label = "s"
    named = by_name(step_data(viz.step_through(d)))
    assert named["w"]["formula"].splitlines()[0] == "ds/dw = a = -2"
    assert "delta(s)" in chain(named["w"]) and "delta" in named["s"]["words"]


def test_hidden_op_parameters_are_respected_at_a_kink():
    x = Value(0.0, label="x")
    y = x.leaky_relu(0.2) * 3.0  # at 0 the derivative is the slope, 0.2 (not the default's)
    y.label = "y"
    step = by_name(step_data(viz.step_through(y)))["x"]
    assert number(step["contributions"][0]["local"]) == 0.2
    assert number(step["grad"]) == pytest.approx(0.6)


def test_micrograd_style_nodes_show_what_their_closure_does():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    m = Value(a.data * b.data, (a, b), "*", label="m")

    def _backward():  # not the product rule, on purpose: the page must show what backward does
        a.grad += 10.0 * m.grad
        b.grad += a.data * m.grad

    m._backward = _backward
    out = m * 2.0
    out.label = "out"
    a.grad, m.grad = 0.5, -7.0  # stale values the page must leave alone
    named = by_name(step_data(viz.step_through(out)))
    assert (a.grad, b.grad, m.grad, out.grad) == (0.5, 0.0, -7.0, 0.0)
    assert number(named["a"]["contributions"][0]["local"]) == 10.0
    assert "other factor" not in named["a"]["words"]  # the closure is not the product rule
    assert number(named["a"]["grad"]) == 20.0
    assert number(named["b"]["contributions"][0]["local"]) == 2.0
    a.grad = 0.0
    out.backward()
    assert (a.grad, b.grad) == (20.0, 4.0)  # the numbers backward gives


def test_grads_of_the_users_graph_are_left_exactly_as_they_were():
    f, nodes = build()
    f.backward()
    f.backward()  # leaves hold twice the gradient, interior nodes the latest
    nodes["q"].grad = 123.25  # and a stale value somewhere
    nodes["x"].grad = float("nan")
    before = [(v, v.grad) for v in topological_order(f)]
    viz.step_through(f, color_by="grad")
    for v, g in before:
        assert v.grad == g or (math.isnan(g) and math.isnan(v.grad))
    # and the page's numbers are the true gradients, not the stale .grad values
    named = by_name(step_data(viz.step_through(f)))
    assert number(named["q"]["grad"]) == 2.0 and number(named["x"]["grad"]) == 2.0


def test_a_leaf_root_is_one_step():
    x = Value(2.0, label="x")
    data = step_data(viz.step_through(x))
    assert [s["kind"] for s in data["steps"]] == ["graph", "backward", "summary"]
    assert data["steps"][1]["formula"] == "dx/dx = 1"


def test_unlabeled_nodes_get_short_names_in_the_order_they_were_made():
    a, b = Value(2.0), Value(3.0, label="b")
    long = (a * b + b * b - b).exp()
    data = step_data(viz.step_through(long))
    names = [s["name"] for s in backward(data)]
    assert "leaf1" in names and "leaf1*b" in names and "b*b" in names
    assert not any("#" in n for n in names)  # never a step number that points ahead
    forward = [s["name"] for s in data["steps"] if s["kind"] == "forward"]
    assert forward.index("leaf1*b") < forward.index("b*b")  # the order they were made
    deep = (long * long).sin() * long
    names = [s["name"] for s in backward(step_data(viz.step_through(deep)))]
    assert "mul2" in names  # too long an expression: its op and a count


def test_nn_names_weighted_sums_and_says_delta():
    import random

    import nn

    random.seed(3)
    model = nn.MLP(2, [3, 1], activation="tanh")
    page = viz.stepper.step_through_model(model, [0.5, -1.0])
    data = step_data(page)
    named = by_name(data)
    s = named["layers.0.neurons.1.s"]
    assert "delta(layers.0.neurons.1.s)" in s["formula"] and "delta" in s["words"]
    rule = s["formula"].splitlines()[0]
    assert rule.startswith("d(layers.0.neurons.1.out)/d(layers.0.neurons.1.s) = 1 - tanh^2")
    w = named["layers.0.neurons.1.w.0"]
    assert w["formula"].splitlines()[0] == (
        "d(layers.0.neurons.1.s)/d(layers.0.neurons.1.w.0) = x1 = 0.5"
    )
    assert all(p.label == "" for p in model.parameters())  # labels put back
    assert set(data["steps"][-1]["gradients"]) == {n for n, _ in model.named_parameters()}


def test_non_finite_gradients_are_valid_json_strings():
    x = Value(1e-310, label="x")
    y = x.log()
    page = viz.step_through(y)
    data = step_data(page)  # json.loads would fail on a bare Infinity
    assert by_name(data)["x"]["grad"] == "inf"
    assert by_name(data)["x"]["grad_text"] == "inf"


# --- options: the same as draw's -------------------------------------------------------------


def test_number_format_and_grad_colouring():
    page, data, _ = lecture_page(fmt="{:.2f}", color_by="grad")
    assert by_name(data)["w_x"]["grad_text"] == "-6.00"
    assert by_name(data)["w_x"]["formula"].endswith("= 2.00 * (-3.00) = -6.00")
    assert data["color_by"] == "grad"
    fills = {n["id"]: n["fill"] for n in data["nodes"]}
    step_of = {s["name"]: s["node"] for s in backward(data)}
    # |grad| 14 is the largest, 1 the smallest: the two ends of draw's ramp
    assert fills[step_of["w_y"]] == viz.GRAD_RAMP[-1]
    assert fills[step_of["f"]] == viz.GRAD_RAMP[0]
    assert "|grad|, log scale" in page and "not reached yet" in page
    assert "grad &#45;6.00" in page  # the box is laid out with its final gradient

    digits = step_data(viz.step_through(Value(2.0, label="t").tanh(), digits=2))
    assert by_name(digits)["t"]["grad_text"] == f"{1 - math.tanh(2.0) ** 2:.2g}"


def test_rankdir_is_the_first_layout_and_wide_ones_carry_a_top_to_bottom_one():
    f, _ = build()
    lr = re.findall(r'class="layout" data-rankdir="(\w+)"', viz.step_through(f))
    assert lr == ["LR", "TB"]
    tb = re.findall(r'class="layout" data-rankdir="(\w+)"', viz.step_through(f, rankdir="TB"))
    assert tb == ["TB"]


def test_grad_sign_colouring_shows_sign_and_size():
    page, data, _ = lecture_page(color_by="grad_sign")
    fills = {n["id"]: n["fill"] for n in data["nodes"]}
    step_of = {s["name"]: s["node"] for s in backward(data)}
    assert fills[step_of["w_y"]] == viz.SIGN_RAMPS[1][-1]  # +14: the darkest red
    assert fills[step_of["w_x"]] in viz.SIGN_RAMPS[-1] or fills[step_of["w_x"]].startswith("#")
    assert fills[step_of["w_x"]] != fills[step_of["w_q"]]  # -6 and +4 differ in hue
    assert "grad: sign and size" in page


def test_big_graph_is_cut_like_draw_and_numbers_stay_exact():
    x = Value(0.3, label="x")
    h = x
    for _ in range(60):
        h = (h * 0.9).tanh()
    out = h + x  # x feeds the root directly and the far end of the chain
    out.label = "out"
    default = inspect.signature(viz.step_through).parameters["max_nodes"].default
    assert default == viz.DEFAULT_MAX_NODES  # draw's cut, unless told otherwise
    page = viz.step_through(out, max_nodes=10)
    data = step_data(page)
    assert len(backward(data)) == 10 - 2  # the two constants 0.9 drawn get no step
    assert "172 more nodes not drawn; pass max_nodes=182" in page
    assert "The graph has 182 nodes; the 10 nearest the output" in data["steps"][0]["words"]
    step = by_name(data)["x"]
    drawn = [k["drawn"] for k in step["contributions"]]
    assert sorted(drawn) == [False, True]
    assert "(not drawn)" in step["words"]
    (expected,) = grad(out, [x])
    assert number(step["grad"]) == expected.data
    total = sum(number(k["product"]) for k in step["contributions"])
    assert total == pytest.approx(expected.data, rel=1e-12)


def test_max_nodes_none_steps_through_everything_up_to_a_limit():
    x = Value(0.1, label="x")
    h = x
    for _ in range(250):
        h = h.sin()
    data = step_data(viz.step_through(h, max_nodes=None))
    assert len(backward(data)) == 251
    for _ in range(viz.MAX_STEPS_UNCUT):
        h = h.sin()
    with pytest.raises(ValueError, match=r"step_through: the graph has 1251 nodes.*max_nodes"):
        viz.step_through(h, max_nodes=None)


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_gives_clear_errors(tmp_path):
    f, _ = build()
    with pytest.raises(TypeError, match=r"step_through: root must be a Value, got 3\.0"):
        viz.step_through(3.0)
    missing = tmp_path / "no_such_dir" / "steps.html"
    with pytest.raises(FileNotFoundError, match=r"step_through: cannot write .*no_such_dir"):
        viz.step_through(f, missing)
    assert not missing.parent.exists()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        viz.step_through(f, tmp_path)
    with pytest.raises(TypeError, match="step_through: path must be"):
        viz.step_through(f, 42)
    with pytest.raises(ValueError, match=r"^step_through: rankdir must be one of"):
        viz.step_through(f, rankdir="XY")
    with pytest.raises(ValueError, match=r"^step_through: color_by"):
        viz.step_through(f, color_by="size")
    with pytest.raises(ValueError, match=r"^step_through: max_nodes"):
        viz.step_through(f, max_nodes=0)
    with pytest.raises(ValueError, match=r"^step_through: digits"):
        viz.step_through(f, digits=0)
    with pytest.raises(ValueError, match=r"^step_through: grad_range"):
        viz.step_through(f, color_by="grad", grad_range=(0, 1))
    assert list(tmp_path.iterdir()) == []  # nothing written on any error


def test_write_is_atomic_and_replaces(tmp_path, monkeypatch):
    f, _ = build()
    target = tmp_path / "steps.html"
    target.write_text("old", encoding="utf-8")
    page = viz.step_through(f, target)
    assert target.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["steps.html"]  # no temporary left

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        viz.step_through(f, target, digits=2)
    assert target.read_text(encoding="utf-8") == page  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["steps.html"]


# --- the page is self-contained and safe --------------------------------------------------------


def test_page_is_self_contained():
    page, _, _ = lecture_page()
    found = tags(page)
    for tag, attrs in found:
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value)
        assert not (tag == "script" and "src" in attrs)
        assert tag not in ("link", "img", "iframe", "object", "embed")
    assert "@import" not in page and "url(" not in page
    assert [t for t, _ in found].count("script") == 2  # the data and the code, both inline
    assert [t for t, _ in found].count("svg") == 2  # left to right, and top to bottom
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    for hook in ('id="next"', 'id="prev"', 'id="step-counter"', 'id="step-explanation"',
                 'id="font-up"', 'id="font-down"'):
        assert hook in page


def test_labels_cannot_break_the_page():
    evil = '</script><b>"&\'\u2028]]>'
    x = Value(1.5, label=evil)
    y = (x * x).tanh()
    y.label = "<!--"
    page = viz.step_through(y)
    assert len(re.findall(r"<script", page, re.I)) == 2
    assert len(re.findall(r"</script", page, re.I)) == 2
    assert "<b>" not in page and "<!--\n" not in page.split("<svg", 1)[0]
    assert "b" not in [t for t, _ in tags(page)]
    data = step_data(page)
    name = evil.replace("\u2028", " ")  # one line in the explanations
    assert by_name(data)[name]["name"] == name  # reaches the script intact
    assert "&lt;/script&gt;&lt;b&gt;" in page  # and the drawing as escaped text


# --- Jupyter and the command line -------------------------------------------------------------


def test_show_steps_is_an_iframe_holding_the_page():
    pytest.importorskip("IPython")
    f, _ = build()
    shown = viz.show_steps(f, rankdir="TB")
    frame = shown.data
    match = re.fullmatch(
        r'<div><iframe srcdoc="([^"]*)" style="[^"]*height: (\d+)px[^"]*" '
        r'sandbox="allow-scripts" title="[^"]*"></iframe></div>',
        frame,
    )
    assert match, frame[:200]
    assert html.unescape(match.group(1)) == viz.step_through(f, rankdir="TB")
    assert 320 <= int(match.group(2)) <= 900
    with pytest.raises(ValueError, match="show_steps: height"):
        viz.show_steps(f, height=5)


def test_show_steps_outside_jupyter_writes_the_page_and_says_where(tmp_path, capsys):
    f, _ = build()
    shown = viz.show_steps(f)
    err = capsys.readouterr().err
    assert err.startswith(f"show_steps: wrote {shown.path}") and shown.path.is_file()
    assert shown.path.read_text(encoding="utf-8") == shown.page
    shown.path.unlink()
    target = tmp_path / "steps.html"
    shown = viz.show_steps(f, target)
    assert target.read_text(encoding="utf-8") == shown.page
    assert f"show_steps: wrote {target}" in capsys.readouterr().err


def test_command_line_steps_through_a_saved_model(tmp_path, capsys):
    import random

    import nn

    random.seed(0)
    nn.MLP(2, [3, 1], activation="tanh").save(tmp_path / "m.json")
    assert viz.main(["--steps", "--model", str(tmp_path / "m.json"), "--input", "0.5,-1"]) == 0
    out = tmp_path / "m_steps.html"
    assert capsys.readouterr().out.strip() == str(out)
    data = step_data(out.read_text(encoding="utf-8"))
    assert "layers.1.neurons.0.w.2" in data["steps"][-1]["gradients"]
    assert viz.main(["--steps", "--model", str(tmp_path / "m.json"), "--input", "1"]) == 2
    assert "--input has 1 number; the model" in capsys.readouterr().err
    from nn.cli import main as chainrule

    page = tmp_path / "p.html"
    assert chainrule(["steps", str(tmp_path / "m.json"), "--input", "0.5,-1", "--out",
                      str(page)]) == 0
    assert step_data(page.read_text(encoding="utf-8")) == data


def test_command_line_writes_the_lecture_page(tmp_path, monkeypatch, capsys):
    out = tmp_path / "lecture_steps.html"
    assert viz.main(["--steps", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    data = step_data(out.read_text(encoding="utf-8"))
    assert [s["kind"] for s in data["steps"]].count("backward") == 13
    assert {k: number(by_name(data)[k]["grad"]) for k in LECTURE_GRADS} == LECTURE_GRADS
    monkeypatch.chdir(tmp_path)
    assert viz.main(["--steps", "--color-by", "grad"]) == 0
    written = tmp_path / "out" / "lecture_steps.html"
    assert step_data(written.read_text(encoding="utf-8"))["color_by"] == "grad"


# --- in a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_paths):
    chrome, driver_path = chromium_paths
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("browser test needs selenium (pip install selenium; in the dev extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1200,860", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _state(driver) -> dict:
    from selenium.webdriver.common.by import By

    return {
        "counter": driver.find_element(By.ID, "step-counter").text,
        "explanation": driver.find_element(By.ID, "step-explanation").text,
        "current": driver.execute_script(
            "return Array.from(document.querySelectorAll('.layout:not([hidden]) g.node.current'))"
            ".map(g => g.id)"
        ),
        # label (first text) and grad field (last text) of every value box
        "boxes": driver.execute_script(
            "return Array.from(document.querySelectorAll('.layout:not([hidden]) g.node.value'))"
            ".map(g => {"
            " const t = g.getElementsByTagName('text');"
            " return [g.id, t[0].textContent, t[t.length - 1].textContent]; })"
        ),
    }


def _no_console_errors(driver) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def _key(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(getattr(Keys, key)).perform()


def _explanation(step: dict, k: int) -> str:
    kind = {"forward": "forward", "backward": "backward", "summary": "summary"}[step["kind"]]
    text = f"Step {k} ({kind}): {step['words']}"
    return text + (f"\n{step['formula']}" if step["formula"] else "")


def test_browser_walks_the_lecture_example(browser, tmp_path):
    from selenium.webdriver.common.by import By

    f, _ = build()
    path = tmp_path / "lecture_steps.html"
    page = viz.step_through(f, path)
    data = step_data(page)
    n = len(data["steps"]) - 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 800)
    browser.get(path.as_uri())

    state = _state(browser)
    assert state["counter"] == f"0 / {n}"
    assert state["explanation"].startswith("The graph of f.")
    assert state["current"] == []
    assert {grad_text for _, _, grad_text in state["boxes"]} == {"grad ?"}
    browser.save_screenshot(str(SHOTS / "lecture_step_00.png"))

    seen: dict[str, str] = {}
    kinds = []
    for k in range(1, n + 1):
        browser.find_element(By.ID, "next").click()
        step = data["steps"][k]
        kinds.append(step["kind"])
        state = _state(browser)
        assert state["counter"] == f"{k} / {n}"
        assert state["explanation"] == _explanation(step, k)
        boxes = {box_id: (label, grad_text) for box_id, label, grad_text in state["boxes"]}
        if step["kind"] == "backward":
            assert state["current"] == [f"node-{step['node']}"]
            label, grad_text = boxes[f"node-{step['node']}"]
            assert grad_text == f"grad {step['grad_text']}"
            seen[label] = grad_text
        if k in (3, 9, 13):
            browser.save_screenshot(str(SHOTS / f"lecture_step_{k:02d}.png"))
    assert kinds[0] == "forward" and kinds[-1] == "summary"
    assert kinds == sorted(kinds, key=["forward", "backward", "summary"].index)
    for label, expected in LECTURE_GRADS.items():  # beside w_x, w_y, w_q, w_z
        assert seen[label] == f"grad {expected:g}"
    assert "decrease w_y" in _state(browser)["explanation"]
    browser.save_screenshot(str(SHOTS / "lecture_summary.png"))

    browser.find_element(By.ID, "next").click()  # Next at n stays at n
    assert _state(browser)["counter"] == f"{n} / {n}"
    _key(browser, "ARROW_RIGHT")
    assert _state(browser)["counter"] == f"{n} / {n}"
    browser.find_element(By.ID, "prev").click()
    assert _state(browser)["counter"] == f"{n - 1} / {n}"
    _key(browser, "HOME")
    state = _state(browser)
    assert state["counter"] == f"0 / {n}"
    assert {g for *_, g in state["boxes"]} == {"grad ?"}
    browser.find_element(By.ID, "prev").click()
    assert _state(browser)["counter"] == f"0 / {n}"
    _key(browser, "END")
    assert _state(browser)["counter"] == f"{n} / {n}"
    assert "grad ?" not in {g for *_, g in _state(browser)["boxes"]}
    _key(browser, "HOME")
    _key(browser, "ARROW_RIGHT")
    assert _state(browser)["counter"] == f"1 / {n}"

    # the font control: A+ makes the text and the drawing larger, A- smaller again
    def sizes():
        return browser.execute_script(
            "const e = document.getElementById('step-explanation');"
            "const t = document.querySelector('.layout:not([hidden]) g.node.value text');"
            "return [parseFloat(getComputedStyle(e).fontSize), t.getBoundingClientRect().height];"
        )

    before = sizes()
    browser.find_element(By.ID, "font-up").click()
    browser.find_element(By.ID, "font-up").click()
    larger = sizes()
    assert larger[0] > before[0] * 1.2 and larger[1] > before[1] * 1.1
    browser.save_screenshot(str(SHOTS / "lecture_font_up.png"))
    for _ in range(4):
        browser.find_element(By.ID, "font-down").click()
    assert sizes()[0] < before[0]
    _no_console_errors(browser)


def _node_text_px(driver) -> list[float]:
    """The on-screen size of every value box's text in the layout being shown."""
    return driver.execute_script(
        "const svg = document.querySelector('.layout:not([hidden]) svg');"
        "const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;"
        "return Array.from(svg.querySelectorAll('g.node.value text'))"
        ".map(t => parseFloat(t.getAttribute('font-size')) * scale);"
    )


def _tanh_mlp():
    import random

    import nn

    random.seed(4)
    model = nn.MLP(2, [3, 1], activation="tanh")
    return model


def _sigmoid_neuron():
    import nn

    neuron = nn.Neuron(2, activation="sigmoid")
    for p, v in zip(neuron.parameters(), (0.8, -0.4, 0.1), strict=True):
        p.data = v
    return neuron


@pytest.mark.parametrize("which", ["neuron", "mlp"])
def test_browser_neuron_and_mlp_explain_every_local_rule(browser, tmp_path, which):
    from selenium.webdriver.common.by import By

    model = _sigmoid_neuron() if which == "neuron" else _tanh_mlp()
    path = tmp_path / f"{which}.html"
    page = viz.stepper.step_through_model(model, [0.5, -1.0], path)
    data = step_data(page)
    root = viz.stepper.model_root(model, [0.5, -1.0])
    order = topological_order(root)
    engine = {v.label: g.data for v, g in zip(order, grad(root, order), strict=True) if v.label}
    rule = "sigma (1 - sigma) = out * (1 - out)" if which == "neuron" else "1 - tanh^2 = 1 - out^2"
    browser.set_window_size(1280, 800)
    browser.get(path.as_uri())
    n = len(data["steps"]) - 1
    kinds, rules_seen = [], 0
    for k in range(1, n + 1):
        browser.find_element(By.ID, "next").click()
        step = data["steps"][k]
        kinds.append(step["kind"])
        text = browser.find_element(By.ID, "step-explanation").text
        assert text == _explanation(step, k)
        if step["kind"] == "backward" and step["name"] in engine:
            assert number(step["grad"]) == engine[step["name"]]  # the engine's number
            assert text.splitlines()[-1].endswith(f"= {step['grad_text']}")
        if step["kind"] == "backward" and rule in text:
            rules_seen += 1
            local = number(step["contributions"][0]["local"])
            assert f"= {step['formula'].splitlines()[0].rsplit('= ', 1)[1]}" in text
            assert float(text.splitlines()[1].rsplit("= ", 1)[1]) == pytest.approx(local, rel=1e-3)
        if step["kind"] == "backward" and step["name"].endswith(".s"):
            assert "delta(" in text
        if k == min(n, 12 if which == "neuron" else 40):
            browser.save_screenshot(str(SHOTS / f"{which}_step_{k:02d}.png"))
    assert kinds[0] == "forward" and kinds[-1] == "summary" and "backward" in kinds
    assert kinds == sorted(kinds, key=["forward", "backward", "summary"].index)
    assert rules_seen == (1 if which == "neuron" else 3)  # one per activation (linear output)
    browser.save_screenshot(str(SHOTS / f"{which}_summary.png"))
    _no_console_errors(browser)


def _wait_for_layout(browser, layout: str) -> None:
    """Wait until the page has laid itself out as ``layout`` ("TB" or "LR").

    The page re-lays itself out in its resize handler, which the browser runs
    some time after the window changes size (later on a busy machine), so the
    test waits for the condition rather than reading it at once.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    def laid_out(driver) -> bool:
        return driver.execute_script("return document.body.getAttribute('data-layout')") == layout

    WebDriverWait(browser, 60, poll_frequency=0.1).until(
        laid_out, message=f"the page never switched to the {layout} layout"
    )


@pytest.mark.parametrize("which", ["lecture", "mlp"])
def test_browser_narrow_window_reads_top_to_bottom_with_readable_text(browser, tmp_path, which):
    if which == "lecture":
        f, _ = build()
        page = viz.step_through(f)
    else:
        page = viz.stepper.step_through_model(_tanh_mlp(), [0.5, -1.0])
    path = tmp_path / "narrow.html"
    path.write_text(page, encoding="utf-8")
    try:
        browser.set_window_size(400, 800)
        browser.get(path.as_uri())
        inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
        assert inner[0] <= 400
        _wait_for_layout(browser, "TB")
        assert min(_node_text_px(browser)) >= 12
        font = browser.execute_script(
            "return parseFloat(getComputedStyle(document.getElementById('step-explanation'))"
            ".fontSize)"
        )
        assert font >= 12
        for _ in range(5):
            _key(browser, "ARROW_RIGHT")
        browser.save_screenshot(str(SHOTS / f"{which}_narrow_400x800.png"))
        browser.set_window_size(1280, 800)  # wide again: the direction asked for
        _wait_for_layout(browser, "LR")
        assert min(_node_text_px(browser)) >= 12
    finally:
        browser.set_window_size(1280, 800)
    _no_console_errors(browser)


def test_browser_grad_colouring_and_hostile_labels(browser, tmp_path):
    from selenium.webdriver.common.by import By

    evil = "</script><b>x"
    x = Value(0.7, label=evil)
    w = Value(-1.3, label="w")
    y = (x * w + x).sigmoid()
    y.label = "y"
    path = tmp_path / "grad.html"
    data = step_data(viz.step_through(y, path, color_by="grad", rankdir="TB"))
    browser.get(path.as_uri())
    fills = {n["id"]: n["fill"] for n in data["nodes"]}

    def fill_of(node_id: str) -> str:
        return browser.execute_script(
            "return document.getElementById(arguments[0]).querySelector('polygon')"
            ".getAttribute('fill')",
            f"node-{node_id}",
        )

    assert {fill_of(i) for i in fills} == {data["not_reached_color"]}
    for k in range(1, len(data["steps"])):
        browser.find_element(By.ID, "next").click()
        node = data["steps"][k]["node"]
        if data["steps"][k]["kind"] == "backward":
            assert fill_of(node) == fills[node]
        if data["steps"][k].get("name") == evil:
            text = browser.find_element(By.ID, "step-explanation").text
            assert evil in text  # shown as text, never parsed as markup
            browser.save_screenshot(str(SHOTS / "grad_colouring_hostile_label.png"))
    assert browser.execute_script("return document.getElementsByTagName('b').length") == 0
    _no_console_errors(browser)


def test_browser_show_steps_iframe_runs(browser, tmp_path):
    pytest.importorskip("IPython")
    from selenium.webdriver.common.by import By

    f, _ = build()
    frame = viz.show_steps(f).data
    host = tmp_path / "notebook_output.html"
    host.write_text(f"<!DOCTYPE html><html><body>{frame}</body></html>", encoding="utf-8")
    browser.get(host.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert browser.find_element(By.ID, "step-counter").text == "0 / 20"
        for _ in range(12):
            browser.find_element(By.ID, "next").click()
        assert browser.find_element(By.ID, "step-counter").text == "12 / 20"
        assert "= 2 * (-3) = -6" in browser.find_element(By.ID, "step-explanation").text
        _key(browser, "ARROW_LEFT")
        assert browser.find_element(By.ID, "step-counter").text == "11 / 20"
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(SHOTS / "show_steps_iframe.png"))
