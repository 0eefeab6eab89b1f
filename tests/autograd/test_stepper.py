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
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

import autograd
from autograd import Value, grad, stepper, topological_order, viz
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


def by_name(data: dict) -> dict[str, dict]:
    return {s["name"]: s for s in data["steps"][1:]}


# --- the steps and their numbers --------------------------------------------------------------


def test_lecture_page_has_one_step_per_node_with_the_right_gradients():
    f, nodes = build()
    page = viz.step_through(f)
    data = step_data(page)
    order = topological_order(f)
    steps = data["steps"]
    assert len(steps) - 1 == len(order) == 13  # step 0 is the forward pass
    assert steps[0]["node"] is None and "Forward pass done: f = 3" in steps[0]["words"]
    assert 'id="step-counter" aria-live="polite">0 / 13<' in page
    named = by_name(data)
    for label, expected in LECTURE_GRADS.items():
        assert number(named[label]["grad"]) == expected
        assert named[label]["grad_text"] == f"{expected:g}"
    assert named["w_x"]["formula"] == "df/dw_x = df/d(w_x*x) * d(w_x*x)/dw_x = 2 * (-3) = -6"
    assert named["w_y"]["formula"].endswith("= 2 * 7 = 14")
    assert named["w_q"]["formula"].endswith("= 1 * 4 = 4")
    assert named["w_z"]["formula"].endswith("= 1 * (-5) = -5")
    assert "other factor, x = -3" in named["w_x"]["words"]
    # every step's number is d f / d node, as grad() gives it
    ids = {s["node"]: s for s in steps[1:]}
    assert len(ids) == 13
    expected = {v: g.data for v, g in zip(order, grad(f, order), strict=True)}
    for v in order:
        step = named[v.label] if v.label else None
        if step is not None:
            assert number(step["grad"]) == expected[v]
    assert sorted(number(s["grad"]) for s in steps[1:]) == sorted(expected.values())


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
    visited = [ids[s["node"]] for s in data["steps"][1:]]
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
    assert step["formula"].startswith("dout/dx = dout/d(x*sin(x)) * d(x*sin(x))/dx + ")
    assert step["formula"].count(" * ") == 8 and step["formula"].endswith(
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
    for step in data["steps"][2:]:  # after the root
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
    for step in data["steps"][2:]:
        total = sum(number(k["product"]) for k in step["contributions"])
        assert total == pytest.approx(expected[step["node"]], rel=1e-12, abs=1e-12)

    # The fast path (a one-node copy of each op on fresh leaves) gives what grad() on the
    # graph gives, and is refused where the graph does not say everything (hidden slopes).
    walk = stepper._LocalDerivatives({v: i for i, v in enumerate(order)})
    copied = 0
    for node in order:
        if not node.parents:
            continue
        fast = stepper._local_by_copy(node)
        if node.op in ("leaky_relu", "elu", "hardtanh"):
            assert fast is None
            continue
        assert fast is not None, node.op
        copied += 1
        slow = walk._through_graph(node)
        assert fast.keys() == slow.keys()
        for p in fast:
            assert fast[p] == pytest.approx(slow[p], rel=1e-12, abs=1e-15), node.op
    # every part but the three with hidden parameters, each part's weight "*", out, and
    # the inner nodes of the dependent-operand parts (sin, a*b, exp, a*b, a*b*c)
    assert copied == (len(parts) - 3) + len(parts) + 1 + 6


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
    assert len(data["steps"]) == 2
    assert data["steps"][1]["formula"] == "dx/dx = 1"


def test_unlabeled_nodes_are_named_by_expression_or_op_and_step():
    a, b = Value(2.0), Value(3.0, label="b")
    long = (a * b + b * b - b).exp()
    data = step_data(viz.step_through(long))
    names = [s["name"] for s in data["steps"][1:]]
    k = next(i for i, n in enumerate(names, start=1) if re.fullmatch(r"leaf#\d+", n))
    assert names[k - 1] == f"leaf#{k}"  # the unlabeled leaf: named by its step
    assert f"leaf#{k}*b" in names
    assert "exp#1" in names  # too long an expression: op and step
    assert "b*b" in names
    assert "Unlabeled nodes are named" in data["steps"][0]["words"]


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
    step_of = {s["name"]: s["node"] for s in data["steps"][1:]}
    # |grad| 14 is the largest, 1 the smallest: the two ends of draw's ramp
    assert fills[step_of["w_y"]] == viz.GRAD_RAMP[-1]
    assert fills[step_of["f"]] == viz.GRAD_RAMP[0]
    assert "|grad|, log scale" in page and "not reached yet" in page
    assert "grad &#45;6.00" in page  # the box is laid out with its final gradient

    digits = step_data(viz.step_through(Value(2.0, label="t").tanh(), digits=2))
    assert digits["steps"][2]["grad_text"] == f"{1 - math.tanh(2.0) ** 2:.2g}"


def test_rankdir_lays_the_graph_out_like_draw():
    f, _ = build()
    for rankdir in ("LR", "TB"):
        page = viz.step_through(f, rankdir=rankdir)
        svg = viz.to_svg(f, rankdir=rankdir)
        size = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
        assert f'<svg width="{size[0]}pt" height="{size[1]}pt"' in page


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
    assert len(data["steps"]) - 1 == 10
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
    assert len(data["steps"]) - 1 == 251
    for _ in range(stepper.MAX_STEPS_UNCUT):
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
    assert [t for t, _ in found].count("svg") == 1
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    for hook in ('id="next"', 'id="prev"', 'id="step-counter"', 'id="step-explanation"'):
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
    with pytest.raises(TypeError, match="show_steps: takes no path"):
        viz.show_steps(f, path="x.html")
    with pytest.raises(ValueError, match="show_steps: height"):
        viz.show_steps(f, height=5)


def test_command_line_writes_the_lecture_page(tmp_path, monkeypatch, capsys):
    out = tmp_path / "lecture_steps.html"
    assert viz.main(["--steps", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    data = step_data(out.read_text(encoding="utf-8"))
    assert len(data["steps"]) == 14
    assert {k: number(by_name(data)[k]["grad"]) for k in LECTURE_GRADS} == LECTURE_GRADS
    monkeypatch.chdir(tmp_path)
    assert viz.main(["--steps", "--color-by", "grad"]) == 0
    written = tmp_path / "out" / "lecture_steps.html"
    assert step_data(written.read_text(encoding="utf-8"))["color_by"] == "grad"


# --- in a real browser ----------------------------------------------------------------------


def _find_browser() -> tuple[str, str]:
    chrome = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    driver = shutil.which("chromedriver")
    missing = [name for name, p in (("chromium", chrome), ("chromedriver", driver)) if not p]
    if missing:
        pytest.skip(
            f"browser test needs {' and '.join(missing)} on PATH "
            "(Debian: apt-get install -y chromium chromium-driver)"
        )
    return chrome, driver


@pytest.fixture(scope="module")
def browser():
    chrome, driver_path = _find_browser()
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
            "return Array.from(document.querySelectorAll('g.node.current')).map(g => g.id)"
        ),
        # label (first text) and grad field (last text) of every value box
        "boxes": driver.execute_script(
            "return Array.from(document.querySelectorAll('g.node.value')).map(g => {"
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


def test_browser_walks_the_lecture_example(browser, tmp_path):
    from selenium.webdriver.common.by import By

    f, _ = build()
    path = tmp_path / "lecture_steps.html"
    page = viz.step_through(f, path)
    data = step_data(page)
    n = len(data["steps"]) - 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(path.as_uri())

    state = _state(browser)
    assert state["counter"] == f"0 / {n}"
    assert state["explanation"].startswith("Forward pass done: f = 3")
    assert state["current"] == []
    assert {grad_text for _, _, grad_text in state["boxes"]} == {"grad ?"}
    browser.save_screenshot(str(SHOTS / "lecture_step_00.png"))

    seen: dict[str, str] = {}
    for k in range(1, n + 1):
        browser.find_element(By.ID, "next").click()
        step = data["steps"][k]
        state = _state(browser)
        assert state["counter"] == f"{k} / {n}"
        assert state["explanation"] == f"Step {k}: {step['words']}\n{step['formula']}"
        assert state["current"] == [f"node-{step['node']}"]
        boxes = {box_id: (label, grad_text) for box_id, label, grad_text in state["boxes"]}
        label, grad_text = boxes[f"node-{step['node']}"]
        assert grad_text == f"grad {step['grad_text']}"
        seen[label] = grad_text
        unknown = sum(1 for _, g in boxes.values() if g == "grad ?")
        assert unknown == n - k  # nodes not reached yet show no gradient
        if k in (3, 6, 9):
            browser.save_screenshot(str(SHOTS / f"lecture_step_{k:02d}.png"))
    for label, expected in LECTURE_GRADS.items():  # beside w_x, w_y, w_q, w_z
        assert seen[label] == f"grad {expected:g}"
    browser.save_screenshot(str(SHOTS / f"lecture_step_{n:02d}.png"))

    browser.find_element(By.ID, "next").click()  # Next at n stays at n
    assert _state(browser)["counter"] == f"{n} / {n}"
    _key(browser, "ARROW_RIGHT")
    assert _state(browser)["counter"] == f"{n} / {n}"

    browser.find_element(By.ID, "prev").click()
    state = _state(browser)
    assert state["counter"] == f"{n - 1} / {n}"
    assert state["current"] == [f"node-{data['steps'][n - 1]['node']}"]
    assert sum(1 for *_, g in state["boxes"] if g == "grad ?") == 1  # the last one hides again
    _key(browser, "ARROW_LEFT")
    assert _state(browser)["counter"] == f"{n - 2} / {n}"
    _key(browser, "ARROW_RIGHT")
    assert _state(browser)["counter"] == f"{n - 1} / {n}"
    for _ in range(n + 3):
        _key(browser, "ARROW_LEFT")
    state = _state(browser)
    assert state["counter"] == f"0 / {n}"  # Back at 0 stays at 0
    assert {g for *_, g in state["boxes"]} == {"grad ?"}
    browser.find_element(By.ID, "prev").click()
    assert _state(browser)["counter"] == f"0 / {n}"
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
        assert fill_of(node) == fills[node]
        if data["steps"][k]["name"] == evil:
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
        assert browser.find_element(By.ID, "step-counter").text == "0 / 13"
        for _ in range(6):
            browser.find_element(By.ID, "next").click()
        assert browser.find_element(By.ID, "step-counter").text == "6 / 13"
        assert "= 2 * (-3) = -6" in browser.find_element(By.ID, "step-explanation").text
        _key(browser, "ARROW_LEFT")
        assert browser.find_element(By.ID, "step-counter").text == "5 / 13"
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(SHOTS / "show_steps_iframe.png"))
