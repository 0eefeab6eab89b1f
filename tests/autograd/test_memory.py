"""Graphs are freed by reference counting, and nothing the engine does keeps them alive.

Memory is measured with tracemalloc (bytes of Python allocations still live).
While measuring, the cyclic garbage collector is switched off: if a graph comes
back to the baseline with ``gc.disable()`` in force, reference counting alone
freed it, so the graph holds no reference cycles (a node pointing to its
consumers, a closure capturing its node, a cache in a cycle ...).
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

import autograd
from autograd import Value, detect_anomaly, grad, no_grad

MB = 1 << 20


@contextlib.contextmanager
def traced_without_gc() -> Iterator[Callable[[], int]]:
    """Yield a function giving the bytes allocated since entry; gc is off inside."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[0] - base
    finally:
        if not already:
            tracemalloc.stop()
        if was_enabled:
            gc.enable()


# --- a million nodes ------------------------------------------------------------------


@pytest.mark.slow
def test_million_node_chain_backward_then_del_returns_to_baseline() -> None:
    steps = 500_000  # y = y*w + c: two nodes per step, 10**6 nodes in all
    w, c = Value(0.999999, label="w"), Value(0.001, label="c")
    with traced_without_gc() as used:
        y = Value(0.5)
        for _ in range(steps):
            y = y * w + c
        built = used()
        # the measurement sees the graph: at least 48 bytes per node are live
        assert built > 48 * 2 * steps, built

        y.backward()
        after_backward = used()
        # backward leaves behind only the nodes' new .grad floats (24 bytes each)
        # plus at most a cached order (8 bytes a node), never its visited-set/dict
        assert after_backward - built < 32 * 2 * steps + MB, (built, after_backward)

        del y
        after_del = used()  # gc is disabled: only reference counting ran
        assert after_del < MB, f"{after_del / MB:.1f} MB still held after del without gc"
        gc.collect()
        assert used() < MB

    # and backward was right: dy_k/dw = y_{k-1} + w dy_{k-1}/dw, dy_k/dc = 1 + w dy_{k-1}/dc
    yk, dw, dc = 0.5, 0.0, 0.0
    for _ in range(steps):
        yk, dw, dc = yk * w.data + c.data, yk + w.data * dw, 1.0 + w.data * dc
    assert w.grad == pytest.approx(dw, rel=1e-9)
    assert c.grad == pytest.approx(dc, rel=1e-9)


# --- repeated build / backward / discard -----------------------------------------------


def mlp_like_graph(seed: int, width: int = 8) -> tuple[Value, list[Value]]:
    """A small network-shaped graph using every op family: n-ary, binary, unary."""
    xs = [Value(((seed + i) % 7) * 0.1 - 0.3) for i in range(16)]
    params = [Value(((seed * 3 + i) % 11) * 0.05 - 0.25) for i in range(16 * width + width)]
    hidden = []
    for j in range(width):
        ws = params[j * 16 : (j + 1) * 16]
        pre = autograd.dot(ws, xs, params[16 * width + j])
        hidden.append([pre.tanh, pre.relu, pre.sigmoid, pre.softplus][j % 4]())
    out = autograd.sum(h * h for h in hidden) / 8.0
    out = out + autograd.maximum(hidden) - abs(hidden[0] - hidden[1])
    out = out + (out * out + 1.0).log() + (out * out + 1.0) ** 0.5 + out.elu() + out.exp()
    return out, params + xs


SAMPLES = 10


def iterations_memory(body: Callable[[int], object], rounds: int = 600) -> list[tuple[int, int]]:
    """Run ``body`` ``rounds`` times; take ten evenly spaced samples (graph alive, dropped).

    ``body`` returns what it built, so the first number is taken while one graph
    is alive and the second after it is dropped. Before each sample the
    collector runs once by hand: it must find nothing (the rounds made no
    reference cycles), and it empties CPython's free lists, which otherwise
    grow by a block or two a round until their cap and look like a leak.
    """
    samples = []
    with traced_without_gc() as used:
        for i in range(rounds):
            if i % (rounds // SAMPLES) == rounds // SAMPLES - 1:
                assert gc.collect() == 0, "the previous rounds left reference cycles"
                kept = body(i)
                alive = used()
                del kept
                assert gc.collect() == 0, "this round left reference cycles"
                samples.append((alive, used()))
            else:
                body(i)
    return samples


def assert_flat(body: Callable[[int], object], what: str, steady_growth, rounds: int = 600) -> None:
    """No steady growth across the ten samples, ``rounds / 10`` rounds apart.

    The median growth between successive samples is what a leak moves; a one-off
    allocation moves a single step and not the median: a dict resizing, a buffer
    another thread fills on a busy machine, or Python 3.10's allocator, which
    grows in a few steps of several kB over the first thousand rounds and then
    stays flat (a few hundred bytes a sample until then). Once a round's graph is
    dropped nothing may stay: the bound is 15 bytes a round, below the 16 of the
    smallest object (one leaked float a round is 24). With a graph alive it is 1%
    of the memory a sample.
    """
    samples = iterations_memory(body, rounds)
    alive = [a for a, _ in samples]
    dropped = [d for _, d in samples]
    growth = steady_growth(dropped)
    bound = 15 * rounds // SAMPLES
    assert growth < bound, f"{what}: {growth} bytes a sample kept between rounds: {dropped}"
    growth = steady_growth(alive)
    assert growth < 0.01 * alive[0], f"{what}: {growth} bytes a sample with a graph alive: {alive}"


def test_repeated_backward_and_discard_does_not_grow(steady_growth) -> None:
    def body(i: int) -> object:
        out, params = mlp_like_graph(i)
        out.backward()
        out.backward()  # twice: leaves accumulate, nothing else is kept
        assert params[0].grad != 0.0
        return out, params

    assert_flat(body, "build/backward/discard", steady_growth)


def test_repeated_build_while_keeping_parameters_does_not_grow(steady_growth) -> None:
    """The training-loop pattern: parameters live on, each step's graph must not."""
    kept: dict[str, list[Value]] = {}

    def body(i: int) -> object:
        # made inside the traced region, so every float the updates recycle is traced
        params = kept.setdefault("params", mlp_like_graph(0)[1])
        xs = [Value(0.01 * i + 0.1 * k) for k in range(16)]
        out = autograd.sum(
            autograd.dot(params[j * 16 : (j + 1) * 16], xs, params[128 + j]).tanh()
            for j in range(8)
        )
        out.backward()
        with no_grad():
            for p in params:
                p.data -= 1e-4 * p.grad
                p.grad = 0.0
        return out

    assert_flat(body, "training loop", steady_growth)


def test_repeated_grad_with_create_graph_does_not_grow(steady_growth) -> None:
    def body(i: int) -> object:
        out, params = mlp_like_graph(i)
        gs = grad(out, params[:4], create_graph=True)
        second = grad(gs[0], params[:4])
        assert all(isinstance(g, Value) for g in second)
        return out, gs, second

    assert_flat(body, "grad(create_graph=True)", steady_growth)


def test_grad_on_a_large_graph_frees_its_bookkeeping() -> None:
    w, c = Value(0.9999), Value(0.01)
    with traced_without_gc() as used:
        y = Value(1.0)
        for _ in range(20_000):
            y = y * w + c
        built = used()
        gw, gc_ = grad(y, [w, c])
        # grad() made no cycles; collecting also empties CPython's free lists
        # (its 2-tuples fill the tuple free list to its cap of 2000)
        assert gc.collect() == 0
        # grad() touches no .grad and keeps none of its per-node dict
        assert used() - built < 64 * 1024
        assert w.grad == 0.0 and c.grad == 0.0
        assert gw.data > 0.0 and gc_.data > 0.0
        del y, gw, gc_
        assert used() < 64 * 1024


def test_detect_anomaly_blocks_entered_per_step_do_not_grow(steady_growth) -> None:
    def body(i: int) -> object:
        with detect_anomaly():
            out, _ = mlp_like_graph(i, width=2)
            out.backward()
        return out

    # anomaly mode records a stack per node, so fewer and smaller rounds
    assert_flat(body, "detect_anomaly per step", steady_growth, rounds=400)


def test_graphs_discarded_inside_one_detect_anomaly_block_are_freed() -> None:
    """Regression: the creation-site map once held every node made inside the block."""
    with detect_anomaly(), traced_without_gc() as used:
        out, _ = mlp_like_graph(0, width=2)
        out.backward()
        del out, _
        start = used()
        for i in range(10):
            out, params = mlp_like_graph(i, width=2)
            out.backward()
            del out, params
        grown = used() - start
    assert grown < 16 * 1024, f"{grown} bytes kept by 10 discarded graphs"
