"""Exceptions fn catches while it is traced (Python 3.12 and later).

A trace records one path. If fn catches an exception while tracing (a
``KeyError`` from a lookup, a ``TypeError`` from a helper), a replay cannot
know whether a later call would raise it, so the trace is refused and fn runs
eagerly. Errors of the engine's own ops are reported by the engine on every
Python; on 3.12 and later ``sys.monitoring``'s EXCEPTION_HANDLED event also
shows every other exception a frame outside autograd catches. The event is
switched on only while some thread traces, and reaches the recorder of the
thread it happened in.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

from ..mode import current_recorder

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_IGNORED = (StopIteration, StopAsyncIteration, GeneratorExit)
_lock = threading.Lock()
_state = {"users": 0, "tool": None}


def _handled(code, offset, exc) -> None:  # noqa: ANN001 - sys.monitoring's signature
    recorder = current_recorder()
    if recorder is None or isinstance(exc, _IGNORED):
        return
    if code.co_filename.startswith(_HERE):
        return  # the engine's own try/except
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    from_engine = tb is not None and tb.tb_frame.f_code.co_filename.startswith(_HERE)
    recorder.caught(type(exc).__name__, from_engine)


@contextlib.contextmanager
def watching() -> Iterator[None]:
    """Report exceptions caught outside autograd to this thread's recorder."""
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        yield
        return
    with _lock:
        if _state["users"] == 0:
            for tool in (4, 3, 2):
                try:
                    monitoring.use_tool_id(tool, "chainrule compile")
                except ValueError:
                    continue
                event = monitoring.events.EXCEPTION_HANDLED
                monitoring.register_callback(tool, event, _handled)
                monitoring.set_events(tool, event)
                _state["tool"] = tool
                break
        _state["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["users"] -= 1
            tool = _state["tool"]
            if _state["users"] == 0 and tool is not None:
                monitoring.set_events(tool, 0)
                monitoring.register_callback(tool, monitoring.events.EXCEPTION_HANDLED, None)
                monitoring.free_tool_id(tool)
                _state["tool"] = None
