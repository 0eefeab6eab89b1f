"""chainrule against micrograd, PyTorch 0-d tensors and plain floats, in one process.

    python -m benchmarks.bench                 # the full run (a few minutes)
    python -m benchmarks.bench --quick         # fewer repetitions: a quick look
    python -m benchmarks.bench --json out/bench.json
    python -m benchmarks.bench --only demo --profile
    python -m benchmarks.bench --only compile      # autograd.compile: trace time, fit

What it measures: one demo step (micrograd's demo, written with binary ops, and
with each library's own MLP; ours eagerly and through ``autograd.compile``),
deep chains and a wide sum, against micrograd, PyTorch 0-d tensors and the
plain-floats floor; the one-off trace and code generation of the binary-op
demo step; ``nn.fit(compile=True)`` against ``compile=False`` on the demo's
training run; memory per graph node.

How it measures:
  1. every workload is built for every available engine and run once; the
     results (output value and every gradient) must agree to 1e-9 relative,
     or the run stops with the differences before anything is timed;
  2. each workload is then timed with its engines interleaved, one step each per
     round (A B C, B C A, C A B, ...), so drift of the machine hits every engine
     alike; the figure is the median;
  3. the garbage collector stays on (``--no-gc`` turns it off while timing), so
     each engine pays for the collections its own objects cause; objects alive
     before timing (modules, the workloads' parameters) are frozen with
     ``gc.freeze()``, so that cost is the same whether or not torch is
     imported; between two timed steps an untimed ``gc.collect()`` clears
     cyclic garbage (micrograd's closures make cycles), so one engine's garbage
     is never collected inside another's timing;
  4. wall-clock time is reported (``--clock cpu``: the process's CPU time,
     steadier on a busy machine); both are in the JSON;
  5. memory is measured with ``tracemalloc`` (Python allocations only, so not
     for PyTorch).

Exit status: 0, or 2 if engines disagree, 1 if an engine raised; with
``--strict`` also 1 if a target fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import textwrap
import time
import traceback
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import workloads as W
from .engines import (
    ORDER,
    Engine,
    available_engines,
    our_compile,
    our_fit,
    our_mlp_class,
    run_with_deep_stack,
    skipped_engines,
)

# --- plans: sizes, repetitions and time budgets -------------------------------------------


@dataclass
class Budget:
    """Repetitions for one workload: as many as fit in ``seconds``, within [lo, hi]."""

    seconds: float
    lo: int
    hi: int


@dataclass
class Plan:
    demo_points: int = W.DEMO_POINTS
    demo_sizes: tuple[int, ...] = W.DEMO_SIZES
    chain_depths: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    micrograd_max_depth: int = 100_000
    sum_terms: int = 100_000
    memory_depth: int = 100_000  # e) bytes per node of the forward graph
    peak_depth: int = 1_000_000  # f) peak memory of backward
    torch_seconds: float = 20.0  # torch runs a big workload only if one step takes less
    micrograd_sum_seconds: float | None = None  # the same for micrograd on the wide sum
    trace_reps: int = 5  # fresh autograd.compile first calls of the binary-op demo step
    train_run: W.TrainRun = W.DEMO_RUN  # fit(compile=True) against compile=False
    moons15_run: W.TrainRun = W.MOONS15_RUN  # the same, issue 22's 15-epoch moons run
    digits_run: W.DigitsRun = W.DIGITS_RUN  # a digits epoch: compiled, eager, PyTorch
    budgets: dict[str, Budget] = field(default_factory=dict)

    def budget(self, key: str) -> Budget:
        for prefix, b in self.budgets.items():
            if key.startswith(prefix):
                return b
        return Budget(10.0, 3, 9)


FULL = Plan(
    budgets={
        "demo": Budget(40.0, 5, 15),
        "chain-1e3": Budget(5.0, 5, 31),
        "chain-1e4": Budget(10.0, 5, 21),
        "chain-1e5": Budget(40.0, 3, 9),
        "chain-1e6": Budget(60.0, 3, 5),
        "sum": Budget(40.0, 3, 9),
        "compile-fit": Budget(45.0, 3, 5),
        "compile-digits": Budget(60.0, 3, 5),
    }
)
QUICK = Plan(
    torch_seconds=1.0,
    micrograd_sum_seconds=1.0,
    budgets={
        "demo": Budget(3.0, 3, 7),
        "chain-1e3": Budget(0.5, 3, 9),
        "chain-1e4": Budget(1.0, 3, 7),
        "chain-1e5": Budget(3.0, 1, 5),
        "chain-1e6": Budget(3.0, 1, 3),
        "sum": Budget(3.0, 1, 5),
        "compile-fit": Budget(0.0, 1, 1),
        "compile-digits": Budget(0.0, 1, 1),
    },
    trace_reps=2,
)
TINY = Plan(  # for tests: every code path in a few milliseconds
    demo_points=4,
    demo_sizes=(2, 3, 3, 1),
    chain_depths=(10, 50),
    micrograd_max_depth=50,
    sum_terms=20,
    memory_depth=50,
    peak_depth=50,
    torch_seconds=1.0,
    trace_reps=1,
    train_run=W.TrainRun(n=24, hidden=(3,), epochs=3, patience=2),
    moons15_run=W.TrainRun(n=24, hidden=(3,), epochs=2, patience=2),
    digits_run=W.DigitsRun(n=40, hidden=4, epochs=1),
    budgets={"": Budget(0.0, 1, 1)},
)


# --- running one step -----------------------------------------------------------------------


def _timed(step: Callable[[], W.Result]) -> tuple[float, float, W.Result]:
    c0, t0 = time.process_time(), time.perf_counter()
    result = step()
    t1, c1 = time.perf_counter(), time.process_time()
    return t1 - t0, c1 - c0, result


def run_case(case: W.Case) -> tuple[float, float, W.Result]:
    """One step of ``case``: (wall seconds, CPU seconds of the process, result).

    micrograd's deep graphs run in a deep-stack thread (not timed: only the step is).
    """
    if case.depth:
        return run_with_deep_stack(lambda: _timed(case.step), case.depth)
    return _timed(case.step)


@dataclass
class Outcome:
    """What happened to one group: check-run times, timed samples, errors."""

    group: W.Group
    check_seconds: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)  # by the chosen clock
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    reps: int = 0
    results: dict[str, W.Result] = field(default_factory=dict)  # of the check run

    def median(self, label: str) -> float | None:
        s = self.samples.get(label)
        return statistics.median(s) if s else None

    def per_unit(self, label: str) -> float | None:
        m = self.median(label)
        return None if m is None or not self.group.units else m / self.group.units


def check_group(group: W.Group, log: Callable[[str], None] = print) -> Outcome:
    """Run every case once (untimed warm-up); raise ``Disagreement`` if results differ.

    A case that raises is dropped from the group and reported as an error.
    """
    outcome = Outcome(group)
    results: dict[str, W.Result] = {}
    kept = []
    for case in group.cases:
        gc.collect()
        try:
            seconds, _cpu, result = run_case(case)
        except Exception as err:  # an engine bug must not hide the other figures
            outcome.errors[case.label] = f"{type(err).__name__}: {err}"
            log(f"  ERROR {group.title} [{case.label}]: {type(err).__name__}: {err}")
            traceback.print_exc(file=sys.stderr)
            continue
        outcome.check_seconds[case.label] = seconds
        results[case.label] = result
        kept.append(case)
    group.cases = kept
    outcome.results = results
    (group.check or W.check_agreement)(group.title, results)
    return outcome


def time_group(
    outcome: Outcome, budget: Budget, reps: int | None, gc_on: bool, clock: str = "wall"
) -> None:
    """Time the group's cases interleaved, ``reps`` rounds of one step each, in rotating order.

    Both clocks are recorded; ``clock`` ("wall" or "cpu") picks the one reported.
    """
    cases = outcome.group.cases
    if not cases:
        return
    if reps is None:
        cost = sum(outcome.check_seconds.values()) or 1e-9
        reps = max(budget.lo, min(budget.hi, int(budget.seconds / cost)))
    outcome.reps = reps
    wall: dict[str, list[float]] = {c.label: [] for c in cases}
    cpu: dict[str, list[float]] = {c.label: [] for c in cases}
    was_enabled = gc.isenabled()
    try:
        for rep in range(reps):
            # A B C, B C A, C A B, ...: no engine always runs right after the same other
            for case in cases[rep % len(cases) :] + cases[: rep % len(cases)]:
                gc.collect()
                if not gc_on:
                    gc.disable()
                seconds, cpu_seconds, _result = run_case(case)
                if was_enabled:
                    gc.enable()
                wall[case.label].append(seconds)
                cpu[case.label].append(cpu_seconds)
    finally:
        if was_enabled:
            gc.enable()
    outcome.wall, outcome.cpu = wall, cpu
    outcome.samples = cpu if clock == "cpu" else wall


# --- memory ---------------------------------------------------------------------------------


def graph_bytes_per_node(E: Engine, depth: int) -> float:
    """e) Python bytes held per op node by the forward graph of a ``depth`` chain."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        graph = W.build_chain(E, depth)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del graph
    gc.collect()
    return (after - before) / (2 * depth)


def backward_peak_bytes(E: Engine, depth: int) -> int:
    """f) Peak Python memory allocated while backward runs on a ``depth`` chain.

    The graph is built before tracing starts, so the figure is what backward
    itself allocates (its ordering structures and the gradients it stores).
    """
    graph = W.build_chain(E, depth)
    gc.collect()
    tracemalloc.start()
    try:
        E.backward(graph[0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del graph
    gc.collect()
    return peak


# --- autograd.compile: the one-off trace, and fit ---------------------------------------------


def measure_trace(E: Engine, plan: Plan, gc_on: bool, clock: str = "wall") -> dict[str, Any]:
    """What compiling the binary-op demo step costs: ``plan.trace_reps`` fresh
    ``autograd.compile(loss)`` objects, each timed over its first call (fn runs
    once, recorded as a Program; its graph is the call's result), beside an eager
    step (forward and backward) measured in turn; and the later call that writes
    and compiles the generated code (the path's replay ``GENERATE_AFTER + 1``)."""
    compile_ = our_compile()
    after = getattr(sys.modules.get("autograd.compile"), "GENERATE_AFTER", 0)
    X, Y = W.two_moons(plan.demo_points)
    loss, _params = W.binary_demo_loss(E, W.mlp_weights(plan.demo_sizes), Y, wrap_inputs=False)
    op_nodes = W.graph_op_nodes(loss([[E.input(v) for v in row] for row in X]))
    times: dict[str, dict[str, list[float]]] = {
        k: {"wall": [], "cpu": []} for k in ("first", "eager", "codegen")}
    was_enabled = gc.isenabled()

    def timed(key: str, run: Callable[[], Any]) -> Any:
        gc.collect()
        if not gc_on:
            gc.disable()
        try:
            c0, t0 = time.process_time(), time.perf_counter()
            got = run()
            t1, c1 = time.perf_counter(), time.process_time()
        finally:
            if was_enabled:
                gc.enable()
        times[key]["wall"].append(t1 - t0)
        times[key]["cpu"].append(c1 - c0)
        return got

    for _ in range(plan.trace_reps):
        timed("eager", lambda: loss([[E.input(v) for v in row] for row in X]).backward())
        fresh = compile_(loss)
        timed("first", lambda fresh=fresh: fresh(X).backward())
        for _ in range(after):  # the walked replays
            fresh(X)
        timed("codegen", lambda fresh=fresh: fresh(X))
        if fresh.traces != 1:
            raise W.CompileFellBack(f"the first call traced {fresh.traces} times")
        del fresh
    kind = "cpu" if clock == "cpu" else "wall"
    med = {k: statistics.median(v[kind]) for k, v in times.items()}
    return {
        "title": "first call of autograd.compile, binary-op demo step",
        "op_nodes": op_nodes,
        "reps": plan.trace_reps,
        "samples_s": times["first"][kind],  # the first calls
        "wall_s": times["first"]["wall"],
        "cpu_s": times["first"]["cpu"],
        "times_s": times,
        "median_s": med["first"],
        "eager_median_s": med["eager"],
        "first/eager": _ratio(med["first"], med["eager"]),
        "codegen_median_s": med["codegen"],
        "generate_after": after,
    }


def fit_summary(o: Outcome, run: W.TrainRun) -> dict[str, Any]:
    """The fit comparison's figures: medians of each mode and how many times faster
    compiled training is."""
    compiled, eager = o.median("ours:compile=True"), o.median("ours:compile=False")
    checked = o.results.get("ours:compile=True")
    history = checked.detail if checked is not None else None
    return {
        "title": o.group.title,
        "run": run.describe(),
        "settings": vars(run),
        "epochs_run": history.epochs_run if history is not None else None,
        "reps": o.reps,
        "agreement_rtol": W.RTOL,
        "samples_s": o.samples,
        "wall_s": o.wall,
        "cpu_s": o.cpu,
        "compile=True_s": compiled,
        "compile=False_s": eager,
        "eager/compiled": _ratio(eager, compiled),
        "errors": o.errors,
    }


def digits_summary(o: Outcome, run: W.DigitsRun) -> dict[str, Any]:
    """A digits epoch's figures: seconds per epoch of each case, and the two ratios."""
    per = {
        label: (None if m is None else m / run.epochs)
        for label in ("ours:compile=True", "ours:compile=scalar", "ours:compile=False",
                      "torch:float64, 1 thread")
        for m in [o.median(label)]
    }
    c, e, t = per["ours:compile=True"], per["ours:compile=False"], per["torch:float64, 1 thread"]
    sc = per["ours:compile=scalar"]
    return {
        "title": o.group.title,
        "run": run.describe(),
        "settings": vars(run),
        "reps": o.reps,
        "samples_s": o.samples,
        "epoch_s": per,
        "eager/compiled": _ratio(e, c),
        "compiled/torch": _ratio(c, t),
        "eager/scalar": _ratio(e, sc),
        "scalar/torch": _ratio(sc, t),
        "notes": o.group.notes,
        "errors": o.errors,
    }


def _print_digits(d: dict[str, Any], out) -> None:
    per = d["epoch_s"]
    names = {"ours:compile=True": "compile=True", "ours:compile=scalar": "compile='scalar'",
             "ours:compile=False": "compile=False",
             "torch:float64, 1 thread": "PyTorch float64 1 thread"}
    shown = ", ".join(f"{names[k]} {_fmt_ms(v)} ms" for k, v in per.items() if v is not None)
    print(f"  {d['title']}: per epoch {shown}", file=out)
    print(
        f"    compile=True {_fmt_x(d['eager/compiled'])} faster than eager;"
        f" compile=True / PyTorch {_fmt_x(d['compiled/torch'])}"
        + ("" if "torch" not in d["notes"] else f" (PyTorch {d['notes']['torch']})"),
        file=out,
    )
    if d.get("scalar/torch") is not None or d.get("eager/scalar") is not None:
        print(
            f"    compile='scalar' {_fmt_x(d.get('eager/scalar'))} faster than eager;"
            f" compile='scalar' / PyTorch {_fmt_x(d.get('scalar/torch'))}",
            file=out,
        )
    for label, why in d["errors"].items():
        print(f"{'':<6}{label}: ERROR {why}", file=out)
    print(
        textwrap.fill(f"run: {d['run']} (median of {d['reps']} each, interleaved)", 96,
                      initial_indent="    ", subsequent_indent="      "),
        file=out,
    )


def print_compile(compiled: dict[str, Any], out, clock: str = "wall") -> None:
    """The one-off trace time and the fit comparison, below the table."""
    trace, fits = compiled.get("trace"), [compiled.get("fit"), compiled.get("fit_moons15")]
    digits = compiled.get("digits")
    if not trace and not any(fits) and not digits:
        return
    print(file=out)
    print(f"autograd.compile ({CLOCK_NAMES[clock]})", file=out)
    if trace:
        if "error" in trace:
            print(f"  {trace['title']}: ERROR {trace['error']}", file=out)
        else:
            print(
                f"  {trace['title']} ({trace['op_nodes']:,} op nodes), with its backward:"
                f" {trace['median_s']:.2f} s against {trace['eager_median_s']:.2f} s for an eager"
                f" step: {trace['first/eager']:.2f}x (median of {trace['reps']} fresh first"
                " calls, interleaved)",
                file=out,
            )
            print(
                f"    code generation, at the path's replay {trace['generate_after'] + 1}:"
                f" {trace['codegen_median_s']:.2f} s (replays before it walk the Program)",
                file=out,
            )
    for fit in fits:
        if not fit:
            continue
        epochs = "" if fit["epochs_run"] is None else f", {fit['epochs_run']} epochs run"
        c, e = fit["compile=True_s"], fit["compile=False_s"]
        if c is not None and e is not None:
            print(
                f"  {fit['title']}{epochs}: compile=True {c:.2f} s, compile=False {e:.2f} s:"
                f" compiled {_fmt_x(fit['eager/compiled'])} faster",
                file=out,
            )
        else:
            print(f"  {fit['title']}{epochs}:", file=out)
        for label, why in fit["errors"].items():
            print(f"{'':<6}{label}: ERROR {why}", file=out)
        rtol = f"{fit['agreement_rtol']:g}".replace("e-0", "e-")
        print(
            f"    (median of {fit['reps']} each, interleaved; Histories and final weights agree"
            f" to {rtol})",
            file=out,
        )
        print(
            textwrap.fill(
                f"run: {fit['run']}", 96, initial_indent="    ", subsequent_indent="      "
            ),
            file=out,
        )
    if digits:
        _print_digits(digits, out)


# --- the report -------------------------------------------------------------------------------


def machine_info(engines: dict[str, Engine], gc_on: bool) -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "gc": ("on" if gc_on else "off while timing")
        + " (gc.freeze() before timing; untimed gc.collect() between steps)",
        "engines": {name: E.version for name, E in engines.items()},
    }
    if "torch" in engines:
        info["torch_threads"] = engines["torch"].extra.get("threads")
    return info


def _fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f}"


def _fmt_x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def table_rows(outcome: Outcome) -> list[dict[str, Any]]:
    """One row per ours-variant: medians of every engine and the three ratios."""
    g = outcome.group
    base = {name: outcome.median(name) for name in ORDER if name != "ours"}
    variants = [c.variant for c in g.cases if c.engine == "ours"] or [""]
    rows = []
    for variant in variants:
        label = f"ours:{variant}" if variant else "ours"
        ours = outcome.median(label)
        title = g.title + (f" (ours: {variant})" if variant else "")
        if variant == "" and any(c.variant for c in g.cases if c.engine == "ours"):
            title += f" ({g.plain_variant})"
        rows.append(
            {
                "key": g.key + (f":{variant}" if variant else ""),
                "title": title,
                "reps": outcome.reps,
                "ours": ours,
                **base,
                "micrograd/ours": _ratio(base["micrograd"], ours),
                "torch/ours": _ratio(base["torch"], ours),
                "ours/floats": _ratio(ours, base["floats"]),
                "unit": g.unit,
                "units": g.units,
            }
        )
    return rows


CLOCK_NAMES = {"wall": "wall-clock time", "cpu": "CPU time"}

LEGEND = (
    "demo step, binary ops: one step of micrograd's demo (100 two-moons points, MLP 2-16-16-1,",
    "  hinge loss + 1e-4 L2), written with binary + and * only, the same code for every engine;",
    "  fresh input leaves each step (PyTorch: input tensors without grad).",
    "demo step, own MLP: the same step with each library's MLP and idiom: micrograd.nn.MLP and",
    "  Python's sum (micrograd's demo) vs nn.MLP and autograd.sum / autograd.dot (ours); the",
    "  same weights; floats: the binary-op forward.",
    "(ours: compiled): the same step through autograd.compile, traced before timing: the data",
    "  points are the compiled function's argument, the parameters are captured; timed: the",
    "  call (a replay of generated code), backward, reading every grad, zeroing the grads.",
    "chain: y = y*w + c with leaves w, c; two op nodes per link.",
    "sum of products: sum of w_i * x_i with binary + for every engine; ours also as",
    "  autograd.sum over the products and as one autograd.dot node.",
)


def print_tables(outcomes: list[Outcome], out, clock: str = "wall") -> None:
    cols = ["ours", "micrograd", "torch", "floats"]
    head = (
        f"{'workload':<44}{'reps':>5}"
        + "".join(f"{c:>11}" for c in cols)
        + f"{'mg/ours':>10}{'torch/ours':>12}{'ours/floats':>13}"
    )
    print(
        f"Medians, milliseconds per step ({CLOCK_NAMES[clock]}): forward + backward + reading\n"
        "every gradient (plain floats: forward only). mg/ours, torch/ours: how many times\n"
        "faster ours is; ours/floats: how many times the plain-floats floor ours takes.",
        file=out,
    )
    print(head, file=out)
    print("-" * len(head), file=out)
    for o in outcomes:
        for r in table_rows(o):
            print(
                f"{r['title']:<44}{r['reps']:>5}"
                + "".join(f"{_fmt_ms(r[c]):>11}" for c in cols)
                + f"{_fmt_x(r['micrograd/ours']):>10}{_fmt_x(r['torch/ours']):>12}"
                + f"{_fmt_x(r['ours/floats']):>13}",
                file=out,
            )
        for label, why in o.group.notes.items():
            print(f"{'':<6}{label}: {why}", file=out)
        for label, err in o.errors.items():
            print(f"{'':<6}{label}: ERROR {err}", file=out)
    print(file=out)
    for line in LEGEND:
        print(line, file=out)
    per_unit = [o for o in outcomes if o.group.unit and o.samples]
    if per_unit:
        print(file=out)
        print("Per unit, nanoseconds (chain: per op node, two per link; sum: per term)", file=out)
        head2 = f"{'workload':<44}" + "".join(f"{c:>11}" for c in cols)
        print(head2, file=out)
        print("-" * len(head2), file=out)
        for o in per_unit:
            for r in table_rows(o):
                n = r["units"]
                cells = [None if r[c] is None else r[c] / n * 1e9 for c in cols]
                print(
                    f"{r['title']:<44}"
                    + "".join(f"{'-' if v is None else f'{v:.0f}':>11}" for v in cells),
                    file=out,
                )


@dataclass
class Target:
    name: str
    value: float | None
    threshold: float
    better: str  # ">=" or "<="
    unit: str = "x"
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "SKIP"
        ok = self.value >= self.threshold if self.better == ">=" else self.value <= self.threshold
        return "PASS" if ok else "FAIL"

    def line(self) -> str:
        shown = "-" if self.value is None else f"{self.value:.2f}{self.unit}"
        want = f"(want {self.better} {self.threshold:g}{self.unit})"
        note = f"  [{self.note}]" if self.note else ""
        return f"  {self.status:<5} {self.name:<58}{shown:>12} {want}{note}"


def targets(
    outcomes: dict[str, Outcome],
    memory: dict[str, Any],
    deepest: int,
    compiled: dict[str, Any] | None = None,
) -> list[Target]:
    def row(key: str) -> dict[str, Any]:
        group = key.split(":", 1)[0]
        o = outcomes.get(group)
        return next((r for r in table_rows(o) if r["key"] == key), {}) if o else {}

    mlp, binary = row("demo-mlp"), row("demo-binary")
    mlp_c, binary_c = row("demo-mlp:compiled"), row("demo-binary:compiled")
    compiled = compiled or {}
    trace, fit = compiled.get("trace") or {}, compiled.get("fit") or {}
    moons15, digits = compiled.get("fit_moons15") or {}, compiled.get("digits") or {}
    fit_note = "" if our_fit() else "nn.fit has no compile argument"
    digits_torch_note = (digits.get("notes") or {}).get("torch", "")
    compile_note = "" if our_compile() else "autograd.compile not available"
    chain5 = row("chain-1e5")
    mlp_note = "" if our_mlp_class() else "nn not available"
    torch_note = "" if binary.get("torch") else "torch not installed"
    deep_key = f"chain-{W._short(deepest)}"
    deep = outcomes.get(deep_key)
    deep_ok = None
    if deep is not None:
        deep_ok = 1.0 if "ours" in deep.samples and "ours" not in deep.errors else 0.0
    bpn = memory.get("graph_bytes_per_node", {}).get("ours")
    return [
        Target(
            "nn.MLP demo step: faster than micrograd's MLP",
            mlp.get("micrograd/ours"),
            30,
            ">=",
            note=mlp_note,
        ),
        Target(
            "nn.MLP demo step: multiple of the plain-floats floor",
            mlp.get("ours/floats"),
            8,
            "<=",
            note=mlp_note,
        ),
        Target("binary-op demo step: faster than micrograd", binary.get("micrograd/ours"), 5, ">="),
        Target(
            "binary-op demo step: faster than PyTorch 0-d",
            binary.get("torch/ours"),
            5,
            ">=",
            note=torch_note,
        ),
        Target(
            "1e5-deep chain: faster per node than micrograd", chain5.get("micrograd/ours"), 4, ">="
        ),
        Target(
            f"{W._short(deepest)} chain works (ran, and agreed with the others)",
            deep_ok,
            1,
            ">=",
            unit="",
        ),
        Target(
            f"forward graph, bytes per node ({W._short(memory.get('depth', 0))} chain)",
            bpn,
            150,
            "<=",
            unit=" B",
        ),
        Target(
            "compiled binary-op demo step: multiple of floats floor",
            binary_c.get("ours/floats"),
            2.5,
            "<=",
            note=compile_note,
        ),
        Target(
            "compiled nn.MLP demo step: multiple of floats floor",
            mlp_c.get("ours/floats"),
            2,
            "<=",
            note=compile_note or mlp_note,
        ),
        Target(
            "compiled nn.MLP demo step: faster than micrograd's MLP",
            mlp_c.get("micrograd/ours"),
            150,
            ">=",
            note=compile_note or mlp_note,
        ),
        Target(
            "first call of the compiled binary-op demo step, vs an eager step",
            trace.get("first/eager"),
            3,
            "<=",
            note=compile_note,
        ),
        Target(
            "fit(compile=True) faster than compile=False (demo run)",
            fit.get("eager/compiled"),
            4,
            ">=",
            note=fit_note,
        ),
        Target(
            "fit(compile=True) faster than compile=False (moons, 15 epochs)",
            moons15.get("eager/compiled"),
            6,
            ">=",
            note=fit_note,
        ),
        Target(
            "fit(compile=True) faster than compile=False (digits epoch)",
            digits.get("eager/compiled"),
            4,
            ">=",
            note=fit_note,
        ),
        Target(
            "digits epoch fit(compile=True) (map) at most 3x PyTorch",
            digits.get("compiled/torch"),
            3,
            "<=",
            note=fit_note or (f"torch {digits_torch_note}" if digits_torch_note else ""),
        ),
        Target(
            "digits epoch fit(compile='scalar') at most 10x PyTorch",
            digits.get("scalar/torch"),
            10,
            "<=",
            note=fit_note or (f"torch {digits_torch_note}" if digits_torch_note else ""),
        ),
    ]


# --- profiling ----------------------------------------------------------------------------------


def profile_ours(groups: list[W.Group], out, top: int = 25) -> None:
    """cProfile one step of ours in each demo workload and print the top functions."""
    import cProfile
    import io
    import pstats

    for g in groups:
        for case in g.cases:
            if case.engine != "ours" or not g.key.startswith("demo"):
                continue
            case.step()  # warm
            prof = cProfile.Profile()
            prof.enable()
            case.step()
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
            print(f"\ncProfile of one '{g.title}' step of {case.label} (by own time):", file=out)
            print(buf.getvalue().rstrip(), file=out)


# --- the command line -----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Benchmark chainrule against micrograd, PyTorch 0-d tensors and plain floats.",
    )
    p.add_argument("--quick", action="store_true", help="fewer repetitions: a quick look")
    p.add_argument("--json", metavar="PATH", help="also write every figure to PATH as JSON")
    p.add_argument("--reps", type=int, metavar="N", help="exactly N timed repetitions per workload")
    p.add_argument(
        "--no-gc", action="store_true", help="disable the garbage collector while timing"
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="report wall-clock time (default) or the process's CPU time, which other "
        "processes on a busy machine disturb less",
    )
    p.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only workloads whose key contains TEXT (repeatable): demo, chain, sum, "
        "chain-1e5, memory, compile (compile-trace, compile-fit), ...",
    )
    p.add_argument(
        "--engines",
        metavar="LIST",
        default=",".join(ORDER),
        help=f"comma-separated engines to run (default: {','.join(ORDER)})",
    )
    p.add_argument("--profile", action="store_true", help="cProfile ours on the demo steps")
    p.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    p.add_argument("--tiny", action="store_true", help="tiny sizes, one repetition (for tests)")
    return p.parse_args(argv)


FIT_KEY = "compile-fit"  # fit(compile=True) against compile=False
MOONS15_KEY = "compile-fit-moons15"  # the same on issue 22's 15-epoch moons run
DIGITS_KEY = "compile-digits"  # a digits epoch: fit compiled, fit eager, PyTorch
SUMMARY_KEYS = (FIT_KEY, MOONS15_KEY, DIGITS_KEY)  # reported below the table, not in it
TRACE_KEY = "compile-trace"  # the one-off trace of the binary-op demo step
MAP_KEY = "compile-map"  # step.map over the demo batch beside torch's batched tensors


def _wanted(key: str, only: list[str] | None) -> bool:
    return not only or any(t in key for t in only)


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = parse_args(argv)
    plan = TINY if args.tiny else QUICK if args.quick else FULL
    if args.reps is not None and args.reps < 1:
        print("--reps must be at least 1", file=sys.stderr)
        return 2
    reps = args.reps if args.reps is not None else (1 if args.tiny else None)
    names = tuple(n.strip() for n in args.engines.split(",") if n.strip())
    unknown = set(names) - set(ORDER)
    if unknown:
        print(f"unknown engine(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    engines = available_engines(names)
    # Objects alive now (the interpreter, torch's modules) are never garbage:
    # freezing them keeps every collection, timed or not, as cheap as without torch.
    gc.collect()
    gc.freeze()
    try:
        return _run(args, plan, reps, names, engines, out)
    finally:
        gc.unfreeze()


def _run(args, plan: Plan, reps: int | None, names, engines: dict[str, Engine], out) -> int:
    gc_on = not args.no_gc
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    info = machine_info(engines, gc_on)
    print("chainrule benchmark: ours vs micrograd vs PyTorch 0-d vs plain floats", file=out)
    print(f"machine: {info['platform']}; {info['python']}; {info['cpu']}", file=out)
    print(
        f"cpus: {info['cpu_count']} ({info['cpus_usable']} usable); GC {info['gc']}; engines: "
        + ", ".join(f"{n} {v}".strip() for n, v in info["engines"].items()),
        file=out,
    )
    for name, why in skipped_engines().items():
        if name in names:
            print(f"engine {name}: {why}", file=out)
    print("Absolute times vary between machines and runs; compare the ratios.", file=out)
    print(file=out, flush=True)

    # 1) build and check everything before timing anything
    builders: list[tuple[str, Callable[[], W.Group]]] = [
        ("demo-binary", lambda: W.demo_binary(engines, plan.demo_points, plan.demo_sizes)),
        ("demo-mlp", lambda: W.demo_own_mlp(engines, plan.demo_points, plan.demo_sizes)),
    ]
    deepest = max(plan.chain_depths)
    outcomes: dict[str, Outcome] = {}

    def chain_builder(depth: int) -> Callable[[], W.Group]:
        def build() -> W.Group:
            chosen, notes = dict(engines), {}
            if "micrograd" in chosen and depth > plan.micrograd_max_depth:
                del chosen["micrograd"]
                notes["micrograd"] = "skipped (recursive topological sort; too deep)"
            if depth > min(plan.chain_depths):
                _drop_slow("torch", chosen, notes, outcomes, 2 * depth, plan.torch_seconds)
            return W.chain(chosen, depth, notes)

        return build

    def sum_builder() -> W.Group:
        chosen, notes = dict(engines), {}
        nodes = 2 * plan.sum_terms
        _drop_slow("torch", chosen, notes, outcomes, nodes, plan.torch_seconds)
        _drop_slow("micrograd", chosen, notes, outcomes, nodes, plan.micrograd_sum_seconds)
        group = W.wide_sum(chosen, plan.sum_terms)
        group.notes.update(notes)
        return group

    for depth in plan.chain_depths:
        builders.append((f"chain-{W._short(depth)}", chain_builder(depth)))
    builders.append((f"sum-{W._short(plan.sum_terms)}", sum_builder))
    if "ours" in engines and our_fit() is not None:
        builders.append((FIT_KEY, lambda: W.training_run(plan.train_run)))
        builders.append((MOONS15_KEY, lambda: W.training_run(
            plan.moons15_run, MOONS15_KEY, "fit, moons, 15 epochs")))
        builders.append((DIGITS_KEY, lambda: W.digits_epoch(engines, plan.digits_run)))

    log("checking that every engine agrees (untimed warm-up run) ...")
    for key, build in builders:
        if not _wanted(key, args.only):
            continue
        t0 = time.perf_counter()
        group = build()
        try:
            outcomes[key] = check_group(group, log)
        except W.Disagreement as err:
            print(f"\nABORTED: {err}", file=sys.stderr)
            print(f"\nABORTED: {err}", file=out)
            return 2
        log(f"  ok  {group.title} ({time.perf_counter() - t0:.1f} s)")

    # 2) time, interleaved; the workloads' long-lived state (parameters, leaves)
    # is frozen too, so that collections during timing never walk it
    gc.collect()
    gc.freeze()
    log("timing ...")
    for key, o in outcomes.items():
        t0 = time.perf_counter()
        time_group(o, plan.budget(key), reps, gc_on, args.clock)
        log(f"  {o.group.title}: {o.reps} reps ({time.perf_counter() - t0:.1f} s)")

    # 3) the one-off cost of autograd.compile, and the fit comparison
    compiled: dict[str, Any] = {}
    if "ours" in engines and our_compile() is not None and _wanted(TRACE_KEY, args.only):
        log("timing autograd.compile's trace of the binary-op demo step ...")
        t0 = time.perf_counter()
        try:
            compiled["trace"] = measure_trace(engines["ours"], plan, gc_on, args.clock)
        except Exception as err:  # the other figures still get reported
            traceback.print_exc(file=sys.stderr)
            compiled["trace"] = {
                "title": "first call of autograd.compile, binary-op demo step",
                "error": f"{type(err).__name__}: {err}",
            }
        log(f"  {plan.trace_reps} traces ({time.perf_counter() - t0:.1f} s)")
    if FIT_KEY in outcomes:
        compiled["fit"] = fit_summary(outcomes[FIT_KEY], plan.train_run)
    if MOONS15_KEY in outcomes:
        compiled["fit_moons15"] = fit_summary(outcomes[MOONS15_KEY], plan.moons15_run)
    if DIGITS_KEY in outcomes:
        compiled["digits"] = digits_summary(outcomes[DIGITS_KEY], plan.digits_run)

    # 4) memory
    memory: dict[str, Any] = {}
    if _wanted("memory", args.only) or _wanted(f"chain-{W._short(plan.memory_depth)}", args.only):
        log("measuring memory ...")
        memory = measure_memory(engines, plan)

    # 5) report
    timed = [outcomes[k] for k, _ in builders if k in outcomes]
    ordered = [o for o in timed if o.group.key not in SUMMARY_KEYS]  # the table's workloads
    print_tables(ordered, out, args.clock)
    print_compile(compiled, out, args.clock)
    if "ours" in engines and our_compile() is not None and _wanted(MAP_KEY, args.only):
        log("timing step.map against torch's batched tensors ...")
        _print_map(args, plan, "torch" in engines, out)
    share = cpu_share(timed)
    if share is not None and share < 0.9:
        print(
            f"\nNOTE: while timing, this process got {share:.0%} of a CPU: other processes were"
            " running,\nso the wall-clock figures are inflated and noisy (try --clock cpu).",
            file=out,
        )
    if memory:
        print_memory(memory, out)
    tlist = targets(outcomes, memory, deepest, compiled)
    print(file=out)
    print("Targets", file=out)
    for t in tlist:
        print(t.line(), file=out)
    elapsed = time.perf_counter() - started
    print(f"\n(total {elapsed:.0f} s)", file=out, flush=True)

    if args.profile:
        profile_ours([o.group for o in ordered], out)

    if args.json:
        write_json(args.json, info, plan, ordered, memory, tlist, elapsed, gc_on, compiled)

    if any(o.errors for o in timed) or "error" in compiled.get("trace", {}):
        return 1
    if args.strict and any(t.status == "FAIL" for t in tlist):
        return 1
    return 0


def _print_map(args, plan: Plan, with_torch: bool, out) -> None:
    """The batched-replay rows (benchmarks/batched.py); skipped without numpy."""
    try:
        import numpy  # noqa: F401 - map's array code needs it
    except ImportError:
        print("\nBatched replay: skipped (numpy not installed; pip install 'chainrule[fast]')",
              file=out)
        return
    from . import batched

    sizes = (20, 50) if args.tiny else batched.SIZES
    reps = 1 if args.tiny else (11 if plan is QUICK else 41)
    try:
        rows = batched.measure(reps, sizes, with_torch)
    except W.Disagreement as err:
        print(f"\nBatched replay: ABORTED: {err}", file=out)
        return
    batched.print_rows(rows, out)


def cpu_share(outcomes: list[Outcome]) -> float | None:
    """CPU time over wall time across every timed step: near 1 on an idle machine."""
    wall = sum(sum(v) for o in outcomes for v in o.wall.values())
    cpu = sum(sum(v) for o in outcomes for v in o.cpu.values())
    return cpu / wall if wall > 0 else None


def _drop_slow(
    engine: str,
    chosen: dict[str, Engine],
    notes: dict[str, str],
    outcomes: dict[str, Outcome],
    nodes: int,
    limit: float | None,
) -> None:
    """Leave ``engine`` out of a workload of ``nodes`` op nodes if a step would exceed ``limit``.

    The estimate scales the engine's time per node on the deepest chain checked so far.
    """
    if engine not in chosen or limit is None:
        return
    best = None
    for o in outcomes.values():
        measured = o.group.unit == "node" and engine in o.check_seconds
        if measured and (best is None or o.group.units > best.group.units):
            best = o
    est = None if best is None else best.check_seconds[engine] * nodes / best.group.units
    if est is None or est > limit:
        del chosen[engine]
        shown = "unknown" if est is None else f"~{est:.1f} s per step"
        notes[engine] = f"skipped (estimated {shown}; limit {limit:g} s in this mode)"


def measure_memory(engines: dict[str, Engine], plan: Plan) -> dict[str, Any]:
    memory: dict[str, Any] = {
        "depth": plan.memory_depth,
        "peak_depth": plan.peak_depth,
        "graph_bytes_per_node": {},
        "backward_peak_bytes": {},
    }
    for name in ("ours", "micrograd"):
        if name in engines:
            memory["graph_bytes_per_node"][name] = graph_bytes_per_node(
                engines[name], plan.memory_depth
            )
    if "ours" in engines:
        peak = backward_peak_bytes(engines["ours"], plan.peak_depth)
        memory["backward_peak_bytes"]["ours"] = peak
    return memory


def print_memory(memory: dict[str, Any], out) -> None:
    print(file=out)
    print("Memory (tracemalloc: Python allocations only, so no PyTorch figure)", file=out)
    depth = W._short(memory["depth"])
    for name, bpn in memory["graph_bytes_per_node"].items():
        print(
            f"  forward graph of the {depth} chain, {name:<10}{bpn:10.1f} bytes per node", file=out
        )
    for name, peak in memory["backward_peak_bytes"].items():
        pdepth = memory["peak_depth"]
        print(
            f"  backward on the {W._short(pdepth)} chain, {name:<10} peak {peak / 2**20:8.1f} MiB"
            f" ({peak / (2 * pdepth):.1f} bytes per node)",
            file=out,
        )


def write_json(path, info, plan, outcomes, memory, tlist, elapsed, gc_on, compiled=None) -> None:
    settings = {k: v for k, v in vars(plan).items() if k != "budgets"}
    settings["train_run"] = vars(plan.train_run)
    settings["moons15_run"] = vars(plan.moons15_run)
    settings["digits_run"] = vars(plan.digits_run)
    data = {
        "machine": info,
        "settings": {"gc": gc_on, "plan": settings},
        "elapsed_s": elapsed,
        "workloads": [
            {
                "key": o.group.key,
                "title": o.group.title,
                "unit": o.group.unit,
                "units": o.group.units,
                "reps": o.reps,
                "notes": o.group.notes,
                "errors": o.errors,
                "check_s": o.check_seconds,
                "samples_s": o.samples,
                "wall_s": o.wall,
                "cpu_s": o.cpu,
                "median_s": {label: o.median(label) for label in o.samples},
                "rows": table_rows(o),
            }
            for o in outcomes
        ],
        "compile": compiled or {},
        "memory": memory,
        "targets": [
            {
                "name": t.name,
                "value": t.value,
                "threshold": t.threshold,
                "want": t.better,
                "status": t.status,
                "note": t.note,
            }
            for t in tlist
        ],
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
