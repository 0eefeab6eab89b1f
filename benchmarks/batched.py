"""Batched replay: the demo step through ``step.map`` beside torch's batched tensors.

The demo step (MLP 2-16-16-1, hinge loss + 1e-4 L2) over B points, written per
example for ``autograd.compile`` and mapped over the batch (``reduce="mean"``),
then backward; torch runs the same step on float64 tensors (one thread). Both
are given as multiples of the plain-floats forward floor of the same B points,
timed interleaved in one process, and checked against eager first.

Each figure is the median of many repetitions of the process's CPU time
(``time.process_time``), not wall time: on a shared machine a step of one or two
milliseconds is often descheduled for a whole time slice of another process,
which put wall-clock medians anywhere from 1.55x to 4.67x torch at B = 1000 in
past runs, while CPU time stays within a few percent. numpy's BLAS runs on one
thread, as torch does (``benchmarks/__init__.py``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from . import workloads as W

SIZES = (100, 1000)
FLOOR_TARGET = 0.7  # issue 23: the demo step with map, as a multiple of the floor
TORCH_TARGET = 2.0  # at B = 1000, as a multiple of torch's batched step


def _map_step(B: int) -> tuple[Callable[[], W.Result], Callable[[], float], Any]:
    """(ours with map, the plain-floats forward, the eager reference's Result)."""
    import autograd
    import nn

    X, Y = W.two_moons(B)
    layers = W.mlp_weights(W.DEMO_SIZES)
    model, canon = W._mlp_with_weights(nn.MLP, W.DEMO_SIZES, layers)
    params = model.parameters()

    def example(x, y):
        # 1 - y s, not 1 + -y s (the same float): -y would be a plain float, so the
        # trace would specialise on each label and run one path per class
        return (1 - y * model(x)).relu() + W.ALPHA * autograd.dot(params, params)

    step = autograd.compile(example)
    batch = list(zip(X, Y, strict=True))

    def ours() -> W.Result:
        for p in canon:
            p.grad = 0.0
        loss = step.map(batch, reduce="mean")
        loss.backward()
        return W.Result(loss.data, [p.grad for p in canon])

    from .engines import available_engines

    E = available_engines(("floats",))["floats"]
    loss_f, _ = W.binary_demo_loss(E, layers, Y)

    def floor() -> float:
        return loss_f(X)

    model.zero_grad()
    eager = autograd.sum([example(*a) for a in batch]) / B
    eager.backward()
    reference = W.Result(eager.data, [p.grad for p in canon])
    return ours, floor, reference


def _torch_step(B: int) -> Callable[[], W.Result] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    X, Y = W.two_moons(B)
    layers = W.mlp_weights(W.DEMO_SIZES)
    mats = []
    for layer in layers:
        w = torch.tensor([ws for ws, _ in layer], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([b for _, b in layer], dtype=torch.float64, requires_grad=True)
        mats.append((w, b))
    xt = torch.tensor(X, dtype=torch.float64)
    yt = torch.tensor(Y, dtype=torch.float64)
    flat = [t for w, b in mats for t in (w, b)]

    def step() -> W.Result:
        for t in flat:
            t.grad = None
        h = xt
        for i, (w, b) in enumerate(mats):
            h = h @ w.T + b
            if i < len(mats) - 1:
                h = torch.relu(h)
        data = torch.relu(1 - yt * h[:, 0]).mean()
        reg = sum((t * t).sum() for t in flat)
        loss = data + W.ALPHA * reg
        loss.backward()
        grads = []
        for w, b in mats:
            gw, gb = w.grad.tolist(), b.grad.tolist()
            for row, gbias in zip(gw, gb, strict=True):
                grads += [*row, gbias]
        return W.Result(loss.item(), grads)

    return step


def _cpu(fn: Callable[[], Any]) -> float:
    """The CPU time of one call (this process, every thread)."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def measure(reps: int = 41, sizes: tuple[int, ...] = SIZES,
            with_torch: bool = True) -> list[dict[str, Any]]:
    """One row per batch size: seconds of ours (map), torch and the floor; ratios."""
    rows = []
    for B in sizes:
        ours, floor, reference = _map_step(B)
        torch_step = _torch_step(B) if with_torch else None
        got = ours()
        for name, res in (("map", got), ("torch", torch_step() if torch_step else None)):
            if res is None:
                continue
            bad = [i for i, (a, b) in enumerate(zip(res.grads, reference.grads, strict=True))
                   if not W.close(a, b)]
            if not W.close(res.value, reference.value) or bad:
                raise W.Disagreement(f"map bench B={B}: {name} disagrees with eager")
        t_ours, t_floor, t_torch = [], [], []
        for _ in range(reps):  # interleaved, so load hits every engine alike
            t_ours.append(_cpu(ours))
            t_floor.append(_cpu(floor))
            if torch_step:
                t_torch.append(_cpu(torch_step))
        row = {
            "B": B,
            "reps": reps,
            "ours": statistics.median(t_ours),
            "floor": statistics.median(t_floor),
            "torch": statistics.median(t_torch) if t_torch else None,
        }
        row["ours/floor"] = row["ours"] / row["floor"]
        row["torch/floor"] = row["torch"] / row["floor"] if row["torch"] else None
        row["ours/torch"] = row["ours"] / row["torch"] if row["torch"] else None
        rows.append(row)
    return rows


def print_rows(rows: list[dict[str, Any]], out) -> None:
    print("\nBatched replay: demo step (MLP 2-16-16-1, hinge + L2) over B points, forward and "
          "backward;\nours = autograd.compile(example).map(batch); torch = batched float64 "
          "tensors, 1 thread;\ntimes as multiples of the plain-floats forward floor of the "
          f"same B points (CPU time, median of {rows[0].get('reps', '?') if rows else 0} "
          "interleaved "
          "repetitions).", file=out)
    print(f"{'B':>6}{'ours ms':>10}{'torch ms':>10}{'floor ms':>10}{'ours/floor':>12}"
          f"{'torch/floor':>13}{'ours/torch':>12}", file=out)
    for r in rows:
        def x(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.2f}x"

        torch_ms = "n/a" if r["torch"] is None else f"{r['torch'] * 1e3:.2f}"
        print(f"{r['B']:>6}{r['ours'] * 1e3:>10.2f}{torch_ms:>10}{r['floor'] * 1e3:>10.2f}"
              f"{x(r['ours/floor']):>12}{x(r['torch/floor']):>13}{x(r['ours/torch']):>12}",
              file=out)
    for r in rows:
        if r["B"] == 100:
            verdict = "PASS" if r["ours/floor"] <= FLOOR_TARGET else "FAIL"
            print(f"target: map at B=100 at most {FLOOR_TARGET}x the floor: "
                  f"{r['ours/floor']:.2f}x {verdict}", file=out)
        if r["B"] == 1000 and r["ours/torch"] is not None:
            verdict = "PASS" if r["ours/torch"] <= TORCH_TARGET else "FAIL"
            print(f"target: map at B=1000 at most {TORCH_TARGET}x torch: "
                  f"{r['ours/torch']:.2f}x {verdict}", file=out)


if __name__ == "__main__":
    import sys

    print_rows(measure(), sys.stdout)
