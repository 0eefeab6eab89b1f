"""Per-thread switches: gradient recording (``no_grad``) and anomaly detection.

The engine checks these on every node it creates, so the common case (recording
on, anomaly detection off, in every thread) must cost one list lookup.
``FLAGS[0]`` counts threads inside ``no_grad``; ``FLAGS[1]`` counts threads
inside ``detect_anomaly`` plus threads where ``autograd.compile`` is tracing
(both want to observe every new node). Only when a count is non-zero does the engine ask the
thread-local state what applies to the current thread.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator

FLAGS = [0, 0]


class AnomalyError(ValueError):
    """A NaN or inf appeared while ``detect_anomaly()`` was on."""


_lock = threading.Lock()


class _ThreadState(threading.local):
    """Per thread: the no_grad and anomaly depths, creation sites, the recorder.
    Every attribute exists from a thread's first use on: reading a missing
    attribute of a thread-local costs an exception, and the engine reads the
    recorder once per node while any thread traces."""

    def __init__(self) -> None:
        self.depths = [0, 0]
        self.sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.recorder = None


_local = _ThreadState()


def _depths() -> list[int]:
    return _local.depths


def is_grad_enabled() -> bool:
    """True unless the current thread is inside ``no_grad()``."""
    return not FLAGS[0] or _depths()[0] == 0


def is_anomaly_enabled() -> bool:
    """True if the current thread is inside ``detect_anomaly()``."""
    return bool(FLAGS[1]) and _depths()[1] > 0


def current_recorder():
    """The compile trace recording in this thread, or None."""
    return _local.recorder


@contextlib.contextmanager
def recording(recorder) -> Iterator[None]:
    """Let ``recorder`` observe every node and branch this thread makes."""
    if current_recorder() is not None:
        raise RuntimeError("autograd.compile: one trace cannot start inside another")
    _local.recorder = recorder
    with _lock:
        FLAGS[1] += 1
    try:
        yield
    finally:
        _local.recorder = None
        with _lock:
            FLAGS[1] -= 1


def creation_sites() -> weakref.WeakKeyDictionary:
    """The current thread's node -> "file:line" map, kept while anomaly mode is on.

    Weakly keyed: remembering where a node was made never keeps it alive, so a
    training loop under ``detect_anomaly()`` frees its graphs as usual.
    """
    _depths()
    return _local.sites


@contextlib.contextmanager
def _counted(slot: int) -> Iterator[None]:
    depths = _depths()
    if depths[slot] == 0:
        with _lock:
            FLAGS[slot] += 1
    depths[slot] += 1
    try:
        yield
    finally:
        depths[slot] -= 1
        if depths[slot] == 0:
            with _lock:
                FLAGS[slot] -= 1
            if slot == 1:
                _local.sites.clear()


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Compute values without recording the graph (inference, optimiser updates)."""
    return _counted(0)


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Raise at the first NaN or inf, naming the op and where its node was created.

    Node creation sites are remembered only inside the block (never keeping a
    node alive), and forgotten when the outermost block exits.
    """
    return _counted(1)
