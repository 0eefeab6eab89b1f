"""no_grad() and detect_anomaly() are per-thread switches.

Each test runs two threads at the same time and uses a Barrier so that, on every
round, one thread is provably *inside* its context manager while the other one
builds graphs outside it. If the switch leaked across threads (a plain global,
or a counter read without asking which thread holds it), the thread outside the
block would see recording turned off, or get an AnomalyError it never asked for.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable

import pytest

import autograd
from autograd import AnomalyError, Value, detect_anomaly, no_grad

ROUNDS = 300
TIMEOUT = 120.0  # seconds a barrier may wait before the test fails instead of hanging


def small_graph(seed: float) -> list[Value]:
    """Every kind of node the engine makes: binary, unary, n-ary, number operands."""
    x, w = Value(seed), Value(0.5)
    h = (x * w + 1.0).tanh()
    return [
        x + w,
        x * 3.0,
        2.0 - x,
        x / (w * w + 1.0),
        (x * x + 1.0) ** w,
        h,
        x.sigmoid(),
        x.relu(),
        x.exp(),
        (x * x + 1.0).log(),
        autograd.sum([x, w, h]),
        autograd.dot([x, w], [h, 2.0]),
        autograd.maximum([x, w]),
    ]


def assert_recorded(nodes: list[Value]) -> None:
    for n in nodes:
        assert n.op != "", f"recorded op lost: {n!r}"
        assert n.parents, f"recorded parents lost: {n!r}"


def assert_not_recorded(nodes: list[Value]) -> None:
    for n in nodes:
        assert n.op == "" and n.parents == (), f"no_grad leaked a recorded node: {n!r}"


def test_no_grad_is_per_thread_with_forced_overlap() -> None:
    seen = {"inside": 0, "outside": 0}

    def inside(i: int) -> None:
        with no_grad():
            barrier.wait()  # 1: both threads are now running; this one is inside no_grad
            assert not autograd.is_grad_enabled()
            nodes = small_graph(i * 0.01)
            assert_not_recorded(nodes)
            # the value is still computed
            assert nodes[0].data == i * 0.01 + 0.5
            barrier.wait()  # 2: the other thread has built its graph while we were inside
            seen["inside"] += 1

    def outside(i: int) -> None:
        barrier.wait()  # 1: the other thread is inside no_grad from here on ...
        assert autograd.is_grad_enabled()
        nodes = small_graph(-i * 0.01)
        assert_recorded(nodes)
        barrier.wait()  # 2: ... until here
        seen["outside"] += 1

    barrier = threading.Barrier(2, timeout=TIMEOUT)
    _run_with_barrier(barrier, inside, outside)
    assert seen == {"inside": ROUNDS, "outside": ROUNDS}
    assert autograd.is_grad_enabled()  # and the main thread was never affected


def test_no_grad_per_thread_free_running_enter_exit() -> None:
    """One thread stays inside nested no_grad blocks while the other enters and
    leaves no_grad as fast as it can: the counts must never mix."""
    stop = threading.Event()
    errors: list[BaseException] = []
    recorded = [0]

    def stays_inside() -> None:
        try:
            with no_grad(), no_grad():
                ready.set()
                while not stop.is_set():
                    assert_not_recorded(small_graph(1.0))
                    with no_grad():
                        assert_not_recorded([Value(2.0) * 3.0])
                    assert_not_recorded([Value(2.0) * 3.0])  # still inside the outer two
        except BaseException as err:
            errors.append(err)

    def toggles() -> None:
        try:
            ready.wait(TIMEOUT)
            for i in range(ROUNDS * 5):
                with no_grad():
                    assert_not_recorded([Value(float(i)) + 1.0])
                nodes = small_graph((i % 100) * 0.01)
                assert_recorded(nodes)
                recorded[0] += 1
        except BaseException as err:
            errors.append(err)
        finally:
            stop.set()

    ready = threading.Event()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=f, daemon=True) for f in (stays_inside, toggles)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 2)
            assert not t.is_alive(), "a worker thread hung"
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[0]
    assert recorded[0] == ROUNDS * 5
    assert autograd.is_grad_enabled()
    # leaving every block in every thread restores recording everywhere
    assert_recorded([Value(1.0) * Value(2.0)])


def test_detect_anomaly_is_per_thread_with_forced_overlap() -> None:
    inf = Value(math.inf)  # made outside anomaly mode, shared by both threads
    counts = {"raised_forward": 0, "raised_backward": 0, "silent": 0}

    def anomalous(i: int) -> None:
        # built before the block, so it holds a NaN; its backward multiplies by it
        x = Value(float(i))
        y = (inf - inf) * x if i % 2 else x * (inf - inf)
        with detect_anomaly():
            barrier.wait()  # 1
            with pytest.raises(AnomalyError, match="forward of '-' gave nan"):
                inf - inf  # noqa: B018 - the NaN itself is the point
            counts["raised_forward"] += 1
            with pytest.raises(AnomalyError, match="backward of '\\*' gave gradient nan"):
                y.backward()
            counts["raised_backward"] += 1
            barrier.wait()  # 2

    def silent(i: int) -> None:
        x = Value(float(i))
        barrier.wait()  # 1: the other thread is inside detect_anomaly from here ...
        nan = inf - inf
        assert math.isnan(nan.data) and nan.op == "-"
        y = nan * x if i % 2 else x * nan
        assert math.isnan(y.data)
        y.backward()  # the NaN gradient flows silently in this thread
        assert math.isnan(x.grad)
        counts["silent"] += 1
        barrier.wait()  # 2: ... until here

    barrier = threading.Barrier(2, timeout=TIMEOUT)
    _run_with_barrier(barrier, anomalous, silent)
    assert counts == {"raised_forward": ROUNDS, "raised_backward": ROUNDS, "silent": ROUNDS}
    # the main thread is not in anomaly mode either
    assert math.isnan((inf - inf).data)


def test_no_grad_and_detect_anomaly_in_opposite_threads() -> None:
    """Thread A: detect_anomaly, recording on. Thread B: no_grad, anomaly off."""
    inf = Value(math.inf)

    def a(i: int) -> None:
        with detect_anomaly():
            barrier.wait()
            assert_recorded(small_graph((i % 100) * 0.01))
            with pytest.raises(AnomalyError):
                inf - inf  # noqa: B018
            barrier.wait()

    def b(i: int) -> None:
        with no_grad():
            barrier.wait()
            assert_not_recorded(small_graph((i % 100) * 0.01))
            assert math.isnan((inf - inf).data)
            barrier.wait()

    barrier = threading.Barrier(2, timeout=TIMEOUT)
    _run_with_barrier(barrier, a, b)


def test_state_is_restored_when_a_block_raises_in_a_thread() -> None:
    """An exception inside no_grad in one thread must not leave it switched off."""
    result: dict[str, object] = {}

    def body() -> None:
        try:
            with no_grad():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        result["enabled"] = autograd.is_grad_enabled()
        result["node"] = Value(1.0) + 1.0

    t = threading.Thread(target=body)
    t.start()
    t.join(TIMEOUT)
    assert result["enabled"] is True
    assert_recorded([result["node"]])  # type: ignore[list-item]
    assert_recorded([Value(1.0) + 1.0])


# --- helpers -------------------------------------------------------------------

def _run_with_barrier(
    barrier: threading.Barrier, a: Callable[[int], None], b: Callable[[int], None]
) -> None:
    errors: list[BaseException] = []

    def worker(body: Callable[[int], None]) -> None:
        try:
            for i in range(ROUNDS):
                body(i)
        except BaseException as err:  # reported to the main thread
            errors.append(err)
            barrier.abort()  # free the partner thread instead of letting it wait

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch often: many interleavings inside each round
    threads = [threading.Thread(target=worker, args=(f,), daemon=True) for f in (a, b)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 3)
            assert not t.is_alive(), "a worker thread hung"
    finally:
        sys.setswitchinterval(old)
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise (real or errors)[0]


@pytest.mark.parametrize("start_enabled", [True, False])
def test_concurrent_backward_and_grad_leave_the_gc_as_the_user_left_it(start_enabled) -> None:
    """backward()/grad() pause the cyclic GC; threads interleaving their pauses
    (and passes that raise) must still restore exactly the user's setting."""
    import gc

    def work(seed: int, errors: list) -> None:
        for i in range(6000):
            x = Value(float(seed + i % 7))
            try:
                if i % 3 == 0:
                    (x * x + 1.0).backward()
                elif i % 3 == 1:
                    autograd.grad((x * 2.0).tanh(), [x])
                else:
                    Value(0.0).sqrt().backward()  # raises ZeroDivisionError in backward
            except ZeroDivisionError:
                pass
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

    was, interval = gc.isenabled(), sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the pauses interleave
    try:
        (gc.enable if start_enabled else gc.disable)()
        for _trial in range(3):
            errors: list = []
            threads = [threading.Thread(target=work, args=(k, errors)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
            assert not errors
            assert gc.isenabled() is start_enabled
    finally:
        sys.setswitchinterval(interval)
        (gc.enable if was else gc.disable)()
