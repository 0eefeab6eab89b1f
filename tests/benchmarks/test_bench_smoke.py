"""Smoke tests of the benchmark suite on tiny sizes: it runs, agrees, and catches disagreement.

No timing is asserted anywhere: these tests only check that the machinery works.
"""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import pytest

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
    ]


def _perturbed(case: workloads.Case, *, value: float = 0.0, grad: float = 0.0):
    inner = case.step

    def step() -> workloads.Result:
        r = inner()
        grads = None if r.grads is None else list(r.grads)
        if grads and grad:
            grads[-1] *= 1.0 + grad
        return workloads.Result(r.value * (1.0 + value), grads)

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
        "demo step, binary ops",
        f"sum of {TINY.sum_terms} products",
    ):
        assert needle in text, needle
    data = json.loads(path.read_text())
    keys = [w["key"] for w in data["workloads"]]
    assert keys[:2] == ["demo-binary", "demo-mlp"] and any(k.startswith("sum") for k in keys)
    assert {t["status"] for t in data["targets"]} <= {"PASS", "FAIL", "SKIP"}
    assert len(data["targets"]) == 7
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
