"""Memory soak: 5,000 optimiser steps must not leak.

Each step builds a graph, backpropagates through it and updates the weights;
the graph must be freed when the step's loss goes out of scope (graphs hold no
reference cycles, so reference counting frees them at once), and the
optimiser's state must stay one number per parameter. ``tracemalloc`` compares
the memory held after step 100 with the memory held after step 5,000.

With ``nn.fit`` the History legitimately grows by one entry per series per
epoch; the test checks that this is the only growth.
"""

from __future__ import annotations

import gc
import math
import random
import sys
import tracemalloc
import weakref

import pytest

import nn

pytestmark = pytest.mark.slow

STEPS = 5000
X, Y = nn.make_moons(8, noise=0.1, seed=0)
YF = [float(t) for t in Y]
BATCH = 4  # examples per step in the raw loops: tracemalloc makes every allocation slow


@pytest.fixture
def traced():
    """tracemalloc running for the test only; ``current()`` is the traced size after gc."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()

    def current():
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    yield current
    if not was_tracing:
        tracemalloc.stop()


def test_five_thousand_adam_steps_hold_constant_memory(traced, steady_growth):
    random.seed(0)
    model = nn.MLP(2, [8, 1])
    opt = nn.Adam(model.parameters(), lr=0.01)
    params = model.parameters()
    graphs = []  # weak references to some steps' losses: each must be dead by the next step

    def step(k):
        i = (k * BATCH) % len(X)
        loss = nn.binary_cross_entropy_with_logits(
            [model(x) for x in X[i : i + BATCH]], YF[i : i + BATCH]
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if k % 500 == 0:
            graphs.append(weakref.ref(loss))
        return loss.data

    first = step(0)
    marks = []
    for k in range(1, STEPS + 1):
        last = step(k)
        if k % 500 == 0:
            assert graphs[-1]() is None, f"the graph of step {k} outlived its step"
            marks.append(traced())

    # 500 steps between marks: one leaked float a step would be 12,000 bytes a mark
    growth = steady_growth(marks)
    assert growth < 500, f"{growth} bytes kept per 500 steps: {marks}"
    assert all(ref() is None for ref in graphs)
    assert opt.step_count == STEPS + 1
    assert len(opt.exp_avg) == len(opt.exp_avg_sq) == len(params) == model.num_parameters()
    assert math.isfinite(first) and math.isfinite(last)


def test_sgd_momentum_state_does_not_grow(traced, steady_growth):
    random.seed(1)
    model = nn.MLP(2, [8, 1])
    opt = nn.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)

    def step():
        loss = nn.mse_loss([model(x) for x in X[:BATCH]], YF[:BATCH])
        opt.zero_grad()
        loss.backward()
        opt.step()

    marks = []
    for k in range(1, 1001):
        step()
        if k % 100 == 0:
            marks.append(traced())
    growth = steady_growth(marks)
    assert growth < 100, f"{growth} bytes kept per 100 steps: {marks}"
    assert len(opt.momentum_buffer) == model.num_parameters()


def _charge(factory):
    """The bytes tracemalloc charges for one object made by ``factory`` (allocator rounding
    included: an int that getsizeof calls 28 bytes may cost 32)."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    keep = [factory(i) for i in range(1000)]
    gc.collect()
    return (tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(keep)) / len(keep)


def _history_bytes(history, charge):
    """Bytes the History's per-epoch series hold: the lists and the objects only they own."""
    seen = set()
    total = 0
    for name in ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr",
                 "time", "perturbed_epochs"):
        series = getattr(history, name)
        total += sys.getsizeof(series)
        for item in series:
            # None, small ints and shared floats (the lr, held by the optimiser too) are
            # not allocated per epoch
            if item is None or (isinstance(item, int) and -5 <= item <= 256) or id(item) in seen:
                continue
            seen.add(id(item))
            total += charge[type(item)]
    return total


def test_fit_grows_only_by_its_history(traced, steady_growth):
    """nn.fit for 5,000 updates (1,250 epochs of 4 mini-batches of 2)."""
    charge = {int: _charge(lambda i: i + 10_000), float: _charge(lambda i: i + 0.5)}
    random.seed(2)
    model = nn.MLP(2, [8, 1])
    epochs, batch, every = STEPS // 4, 2, 125
    marks = []  # (epoch, bytes traced, bytes the History's series hold)

    def measure(history, _model):
        if history.epochs_run % every == 0:
            marks.append((history.epochs_run, traced(), _history_bytes(history, charge)))

    history = nn.fit(model, X, Y, epochs=epochs, batch_size=batch, optimizer="adam", lr=0.01,
                     progress=False, callbacks=measure)
    assert history.updates == STEPS and history.epochs_run == epochs
    assert [m[0] for m in marks] == list(range(every, epochs + 1, every))
    (_, _, hist0), (_, _, hist1) = marks[0], marks[-1]
    per_epoch = (hist1 - hist0) / (epochs - every)
    assert per_epoch < 400, f"History grows {per_epoch:.0f} bytes per epoch"
    # what is kept besides the History: a leak of even one float per epoch would be
    # 3,000 bytes per mark (125 epochs), one per update four times that
    other = steady_growth([mem - hist for _, mem, hist in marks])
    assert other < 500, f"besides the History, {other} bytes kept per {every} epochs: {marks}"
