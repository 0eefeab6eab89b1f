"""Smoke tests of the benchmark suite on tiny sizes: it runs, agrees, and catches disagreement.

No timing is asserted anywhere: these tests only check that the machinery works.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import math
import sys
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Value
from nn import cli
from nn.cli.config import CLI_LR

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import bench, engines, workloads  # noqa: E402

ENGINES = engines.available_engines()
TINY = bench.TINY


def tiny_groups() -> list[workloads.Group]:
    return [
        workloads.demo_binary(ENGINES, TINY.demo_points, TINY.demo_sizes),
        workloads.demo_own_mlp(ENGINES, TINY.demo_points, TINY.demo_sizes),
        workloads.chain(ENGINES, 30),
        workloads.wide_sum(ENGINES, 12),
        workloads.training_run(TINY.train_run),
    ]


def tiny_demo(key: str) -> workloads.Group:
    build = workloads.demo_binary if key == "demo-binary" else workloads.demo_own_mlp
    return build(ENGINES, TINY.demo_points, TINY.demo_sizes)


def compiled_case(group: workloads.Group) -> workloads.Case:
    return next(c for c in group.cases if c.label == "ours:compiled")


def _perturbed(case: workloads.Case, *, value: float = 0.0, grad: float = 0.0):
    inner = case.step

    def step() -> workloads.Result:
        r = inner()
        grads = None if r.grads is None else list(r.grads)
        if grads and grad:
            grads[-1] *= 1.0 + grad
        return workloads.Result(r.value * (1.0 + value), grads, r.detail)

    return step


def test_every_engine_agrees_on_every_tiny_workload():
    for group in tiny_groups():
        outcome = bench.check_group(group)
        assert not outcome.errors, outcome.errors
        assert set(outcome.check_seconds) == {c.label for c in group.cases}
        assert len(group.cases) >= 2, group.key


def test_results_carry_every_gradient():
    group = workloads.demo_binary(ENGINES, TINY.demo_points, TINY.demo_sizes)
    n_params = len(workloads.flat_weights(workloads.mlp_weights(TINY.demo_sizes)))
    for case in group.cases:
        *_, result = bench.run_case(case)
        assert math.isfinite(result.value)
        if case.engine == "floats":
            assert result.grads is None
        else:
            assert len(result.grads) == n_params


def test_chain_matches_its_closed_form():
    depth = 40
    group = workloads.chain({"ours": ENGINES["ours"], "floats": ENGINES["floats"]}, depth)
    w, c, y0 = workloads.CHAIN_W, workloads.CHAIN_C, workloads.CHAIN_Y0
    expected = w**depth * y0 + c * (1 - w**depth) / (1 - w)
    for case in group.cases:
        *_, result = bench.run_case(case)
        assert result.value == pytest.approx(expected, rel=1e-12)
    *_, ours = bench.run_case(group.cases[0])
    dc, dy0 = ours.grads[1], ours.grads[2]
    assert dc == pytest.approx((1 - w**depth) / (1 - w), rel=1e-12)
    assert dy0 == pytest.approx(w**depth, rel=1e-12)


@pytest.mark.parametrize("where", ["value", "grad"])
def test_a_perturbed_result_is_caught(where):
    group = workloads.chain(ENGINES, 25)
    victim = next(c for c in group.cases if c.engine == "ours")
    kwargs = {"value": 1e-7} if where == "value" else {"grad": 1e-7}
    victim.step = _perturbed(victim, **kwargs)
    with pytest.raises(workloads.Disagreement) as info:
        bench.check_group(group)
    message = str(info.value)
    assert "chain" in message and "ours" in message
    assert ("output value" if where == "value" else "grad[2]") in message


def test_agreement_tolerance():
    R = workloads.Result
    workloads.check_agreement("t", {"a": R(1.0, [0.0, 2.0]), "b": R(1.0 + 1e-12, [1e-15, 2.0])})
    with pytest.raises(workloads.Disagreement):
        workloads.check_agreement("t", {"a": R(1.0, [1.0]), "b": R(1.0 + 1e-8, [1.0])})
    with pytest.raises(workloads.Disagreement, match="number of gradients"):
        workloads.check_agreement("t", {"a": R(1.0, [1.0]), "b": R(1.0, [1.0, 2.0])})
    with pytest.raises(workloads.Disagreement):
        workloads.check_agreement("t", {"a": R(1.0), "b": R(float("nan"))})


def _has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def test_tiny_run_prints_the_report_and_writes_json(tmp_path):
    path = tmp_path / "bench.json"
    out = io.StringIO()
    assert bench.main(["--tiny", "--json", str(path)], out=out) == 0
    text = out.getvalue()
    for needle in (
        "machine:",
        "cpus:",
        "Absolute times vary",
        "Targets",
        "mg/ours",
        "bytes per node",
        "demo step, binary ops (eager)",
        "demo step, binary ops (ours: compiled)",
        "demo step, own MLP (ours: compiled)",
        f"sum of {TINY.sum_terms} products",
        "first call of autograd.compile, binary-op demo step",
        "code generation, at the path's replay",
        "fit, the demo's training run",
        "compiled binary-op demo step: multiple of floats floor",
    ):
        assert needle in text, needle
    data = json.loads(path.read_text())
    keys = [w["key"] for w in data["workloads"]]
    assert keys[:2] == ["demo-binary", "demo-mlp"] and any(k.startswith("sum") for k in keys)
    for key in ("compile-fit", "compile-fit-moons15", "compile-digits"):
        assert key not in keys  # reported in their own section, not as engine columns
    assert {t["status"] for t in data["targets"]} <= {"PASS", "FAIL", "SKIP"}
    assert len(data["targets"]) == 16
    # the targets of autograd.compile and fit come last, and every one was measured
    # (PyTorch's digits row only when torch is installed)
    compile_targets = data["targets"][7:]
    assert "first call of the compiled binary-op demo step" in compile_targets[3]["name"]
    assert "digits epoch fit(compile=True) (map) at most 3x PyTorch" in compile_targets[-2]["name"]
    assert "digits epoch fit(compile='scalar') at most 10x PyTorch" in compile_targets[-1]["name"]
    measured = compile_targets if _has_torch() else compile_targets[:-2]
    assert all(t["status"] != "SKIP" for t in measured), compile_targets
    digits = data["compile"]["digits"]
    assert digits["epoch_s"]["ours:compile=True"] > 0
    assert digits["epoch_s"]["ours:compile=False"] > 0
    assert digits["epoch_s"]["ours:compile=scalar"] > 0
    assert "1 thread" in text and "digits epoch" in text
    rows = {r["key"]: r for w in data["workloads"] for r in w["rows"]}
    for key in ("demo-binary", "demo-binary:compiled", "demo-mlp", "demo-mlp:compiled"):
        assert rows[key]["ours/floats"] > 0 and rows[key]["floats"] > 0, key
    trace = data["compile"]["trace"]
    assert trace["reps"] == len(trace["samples_s"]) == TINY.trace_reps
    assert trace["median_s"] > 0 and trace["op_nodes"] > 0
    fit = data["compile"]["fit"]
    assert fit["settings"] == json.loads(json.dumps(dataclasses.asdict(TINY.train_run)))
    assert fit["eager/compiled"] == pytest.approx(fit["compile=False_s"] / fit["compile=True_s"])
    assert set(fit["samples_s"]) == {"ours:compile=True", "ours:compile=False"}
    assert data["memory"]["graph_bytes_per_node"]["ours"] > 0
    demo = data["workloads"][0]
    assert all(len(s) == 1 for s in demo["samples_s"].values())
    assert set(demo["cpu_s"]) == set(demo["wall_s"]) == set(demo["samples_s"])


def test_main_aborts_when_engines_disagree(monkeypatch):
    real_chain = workloads.chain

    def broken_chain(engs, depth, notes=None):
        group = real_chain(engs, depth, notes)
        victim = group.cases[-1]
        victim.step = _perturbed(victim, value=1e-6)
        return group

    monkeypatch.setattr(workloads, "chain", broken_chain)
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "chain"], out=out) == 2
    assert "ABORTED: engines disagree on 'chain" in out.getvalue()
    assert "Targets" not in out.getvalue()  # nothing was timed


def test_own_mlp_workload_is_skipped_without_nn(monkeypatch):
    monkeypatch.setattr(workloads, "our_mlp_class", lambda: None)
    monkeypatch.setattr(bench, "our_mlp_class", lambda: None)
    group = workloads.demo_own_mlp(ENGINES, TINY.demo_points, TINY.demo_sizes)
    assert group.notes["ours"] == "skipped (nn not available)"
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "demo-mlp"], out=out) == 0
    assert "skipped (nn not available)" in out.getvalue()
    assert "SKIP  nn.MLP demo step" in out.getvalue()


def test_profile_option_prints_the_top_functions():
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "demo-binary", "--profile"], out=out) == 0
    assert "cProfile of one 'demo step, binary ops' step of ours" in out.getvalue()


@pytest.mark.skipif("micrograd" not in ENGINES, reason="micrograd not installed")
def test_micrograd_runs_deeper_than_the_recursion_limit():
    depth = sys.getrecursionlimit() * 2
    group = workloads.chain({"micrograd": ENGINES["micrograd"], "ours": ENGINES["ours"]}, depth)
    assert group.cases[0].depth > depth
    bench.check_group(group)
    assert sys.getrecursionlimit() < depth  # restored afterwards


def test_two_moons_is_deterministic_and_balanced():
    X1, Y1 = workloads.two_moons(100)
    X2, Y2 = workloads.two_moons(100)
    assert X1 == X2 and Y1 == Y2
    assert len(X1) == 100 and sorted(set(Y1)) == [-1.0, 1.0] and sum(Y1) == 0.0


def test_unknown_engine_is_refused():
    assert bench.main(["--tiny", "--engines", "ours,tensorflow"], out=io.StringIO()) == 2


# --- autograd.compile rows -----------------------------------------------------------


@pytest.mark.parametrize("key", ["demo-binary", "demo-mlp"])
def test_compiled_demo_step_agrees_and_only_replays(key):
    group = tiny_demo(key)
    case = compiled_case(group)
    compiled = case.step.compiled
    assert compiled.traces == 1  # traced once, before anything is checked or timed
    assert compiled._latest.backend.generated  # timed calls replay generated code, not a walk
    outcome = bench.check_group(group)
    assert not outcome.errors, outcome.errors
    bench.time_group(outcome, bench.Budget(0.0, 1, 1), 3, gc_on=True)
    assert len(outcome.samples["ours:compiled"]) == 3
    assert compiled.traces == 1  # every checked and timed call replayed the first trace
    rows = {r["key"]: r for r in bench.table_rows(outcome)}
    eager, fast = rows[key], rows[f"{key}:compiled"]
    assert eager["title"].endswith("(eager)") and fast["title"].endswith("(ours: compiled)")
    assert fast["floats"] == eager["floats"]  # the same floor, measured in the same rounds
    assert fast["ours/floats"] == pytest.approx(fast["ours"] / fast["floats"])


def test_compiled_binary_step_is_the_eager_computation():
    # the compiled function is the eager loss itself: same value and gradients at
    # full size, and its graph has one op node per operation of the demo's code
    E = ENGINES["ours"]
    X, Y = workloads.two_moons(10)
    layers = workloads.mlp_weights((2, 4, 1))
    loss, params = workloads.binary_demo_loss(E, layers, Y, wrap_inputs=False)
    eager = loss([[Value(v) for v in row] for row in X])
    eager.backward()
    expected = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    step = autograd.compile(loss)
    out = step(X)
    out.backward()
    assert out.data == pytest.approx(eager.data, rel=1e-12)
    assert [p.grad for p in params] == pytest.approx(expected, rel=1e-12)
    # per point: 4 hidden neurons of 2 (* and +) pairs and a relu, one output of
    # 4 pairs, then the hinge (*, +, relu) and the running total; then 17 squares
    # and 16 adds of the L2 term, and its 3 final ops
    per_point = 4 * (2 * 2 + 1) + 4 * 2 + 3 + 1
    assert workloads.graph_op_nodes(eager) == 10 * per_point - 1 + 17 + 16 + 3


@pytest.mark.parametrize("key", ["demo-binary", "demo-mlp"])
@pytest.mark.parametrize("where", ["value", "grad"])
def test_a_wrong_compiled_result_is_caught(key, where):
    group = tiny_demo(key)
    victim = compiled_case(group)
    inner = victim.step

    def wrong() -> workloads.Result:  # off by 1e-7 relative: far beyond the tolerance
        r = inner()
        if where == "value":
            return workloads.Result(r.value * (1 + 1e-7), r.grads)
        return workloads.Result(r.value, [g * (1 + 1e-7) for g in r.grads])

    victim.step = wrong
    with pytest.raises(workloads.Disagreement) as info:
        bench.check_group(group)
    message = str(info.value)
    assert "ours:compiled" in message
    assert ("output value" if where == "value" else "grad[") in message


def test_a_compile_that_falls_back_to_eager_is_an_error(monkeypatch):
    # a trace autograd.compile cannot replay would make the "compiled" row time the
    # eager engine: the case fails its check run instead of being timed
    real = autograd.compile

    def compile_with_user_op(fn):
        def wrapped(rows):
            out = fn(rows)
            lecture_style = Value(out.data, (out,), "copy")  # a node made by user code

            def _backward():
                out.grad += lecture_style.grad

            lecture_style._backward = _backward
            return lecture_style

        return real(wrapped)

    monkeypatch.setattr(workloads, "our_compile", lambda: compile_with_user_op)
    group = tiny_demo("demo-binary")
    outcome = bench.check_group(group)
    assert "cannot compile" in outcome.errors["ours:compiled"]
    assert "ours:compiled" not in {c.label for c in group.cases}  # never timed


def test_traced_refuses_a_second_trace():
    state = Value(1.0)

    def flips(x):  # its branch depends on a captured Value it changes itself
        out = x * 2 if state > 0 else x * 3
        state.data = -state.data
        return out

    with pytest.raises(workloads.CompileFellBack, match="changed a number it reads"):
        workloads.traced(autograd.compile(flips), Value(3.0))


def test_compile_rows_are_skipped_without_autograd_compile(monkeypatch):
    monkeypatch.setattr(workloads, "our_compile", lambda: None)
    monkeypatch.setattr(bench, "our_compile", lambda: None)
    group = tiny_demo("demo-binary")
    assert [c.label for c in group.cases if c.engine == "ours"] == ["ours"]
    assert group.notes["ours:compiled"] == "skipped (autograd.compile not available)"
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "demo-binary"], out=out) == 0
    text = out.getvalue()
    assert "SKIP  compiled binary-op demo step" in text
    assert "autograd.compile not available" in text


def test_profile_option_covers_the_compiled_step():
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "demo-binary", "--profile"], out=out) == 0
    assert "cProfile of one 'demo step, binary ops' step of ours:compiled" in out.getvalue()


# --- the one-off trace, and fit(compile=True) against compile=False ---------------------


def test_trace_time_is_measured_on_fresh_compiles():
    plan = dataclasses.replace(TINY, trace_reps=3)
    trace = bench.measure_trace(ENGINES["ours"], plan, gc_on=True)
    assert trace["reps"] == 3 and len(trace["wall_s"]) == len(trace["cpu_s"]) == 3
    assert min(trace["samples_s"]) <= trace["median_s"] <= max(trace["samples_s"])
    X, Y = workloads.two_moons(TINY.demo_points)
    loss, _ = workloads.binary_demo_loss(ENGINES["ours"], workloads.mlp_weights(TINY.demo_sizes), Y)
    assert trace["op_nodes"] == workloads.graph_op_nodes(loss(X))


def test_demo_run_is_the_command_lines_default_run():
    args = cli.build_parser().parse_args(["train"])
    run = workloads.DEMO_RUN
    X, y = nn.get_dataset(args.dataset, n=args.n, seed=args.seed)
    moons_noise = inspect.signature(nn.DATASETS[args.dataset]).parameters["noise"].default
    assert (run.dataset, run.n, run.seed) == (args.dataset, args.n, args.seed)
    assert args.noise is None and run.noise == moons_noise
    assert run.val_split == args.val_split
    assert list(run.hidden) == args.hidden and run.activation == args.activation
    assert run.loss == nn.get_task(args.loss, y, 1).loss
    assert run.optimizer == args.optimizer and args.lr is None
    assert run.lr == CLI_LR[args.optimizer]
    assert (run.epochs, run.batch_size, run.patience) == (
        args.epochs,
        args.batch_size,
        args.patience,
    )
    assert args.l2 == 0 and args.perturb == 0 and args.schedule is None


def test_training_runs_agree_and_carry_their_histories():
    group = workloads.training_run(TINY.train_run)
    outcome = bench.check_group(group)
    assert not outcome.errors, outcome.errors
    compiled = outcome.results["ours:compile=True"].detail
    eager = outcome.results["ours:compile=False"].detail
    assert compiled.epochs_run == eager.epochs_run == TINY.train_run.epochs
    assert workloads.history_problems(compiled, eager) == []


def _history_changed(case: workloads.Case, change):
    inner = case.step

    def step() -> workloads.Result:
        r = inner()
        change(r.detail)
        return r

    return step


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h.loss.__setitem__(1, h.loss[1] * (1 + 1e-7)), "History.loss[1]"),
        (lambda h: h.val_accuracy.__setitem__(0, None), "History.val_accuracy[0]"),
        (lambda h: h.grad_norm.append(1.0), "History.grad_norm: 4 entries"),
        (lambda h: setattr(h, "best_epoch", 99), "History.best_epoch"),
    ],
)
def test_a_different_compiled_history_is_caught(change, expected):
    group = workloads.training_run(TINY.train_run)
    victim = group.cases[0]
    assert victim.label == "ours:compile=True"
    victim.step = _history_changed(victim, change)
    with pytest.raises(workloads.Disagreement, match="runs disagree") as info:
        bench.check_group(group)
    assert expected in str(info.value)


def test_different_final_weights_are_caught():
    group = workloads.training_run(TINY.train_run)
    group.cases[0].step = _perturbed(group.cases[0], grad=1e-7)
    with pytest.raises(workloads.Disagreement, match="grad\\["):
        bench.check_group(group)


def test_main_aborts_when_the_training_runs_disagree(monkeypatch):
    real = workloads.training_run

    def broken(run):
        group = real(run)
        victim = group.cases[0]
        victim.step = _history_changed(victim, lambda h: h.lr.__setitem__(0, 1.0))
        return group

    monkeypatch.setattr(workloads, "training_run", broken)
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "compile"], out=out) == 2
    assert 'ABORTED: runs disagree on "fit, the demo\'s training run"' in out.getvalue()
    assert "Targets" not in out.getvalue()


def test_only_compile_reports_the_trace_and_the_fit(tmp_path):
    path = tmp_path / "bench.json"
    out = io.StringIO()
    assert bench.main(["--tiny", "--only", "compile", "--json", str(path)], out=out) == 0
    text = out.getvalue()
    assert "autograd.compile (wall-clock time)" in text
    assert "fresh first calls" in text and "compile=True" in text and "faster" in text
    assert "Histories and final weights agree to 1e-9" in text
    data = json.loads(path.read_text())
    assert data["workloads"] == []  # no engine workload matched
    status = {t["name"]: t["status"] for t in data["targets"]}
    assert status["first call of the compiled binary-op demo step, vs an eager step"] != "SKIP"
    assert status["fit(compile=True) faster than compile=False (demo run)"] != "SKIP"
