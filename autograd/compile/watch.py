"""Reading ``v.data`` inside a traced fn: seen, and guarded like ``float(v)``.

``data`` is a slot of Value, read at full speed everywhere. While fn is traced,
the Values fn can reach through the trace (its stand-in arguments and every
node it makes) are switched to a subclass whose ``data`` is a property: a read
from code outside the engine (fn, or nn code fn calls) is a number leaving the
engine, so the trace guards on it, exactly as it guards ``float(v)``. Reads by
the engine itself (modules ``autograd.*``, which compute the recorded ops) pass
unobserved. The traced graph is thrown away after the trace, so no Value the
user holds ever has the watched class.
"""

from __future__ import annotations

import sys

from ..mode import FLAGS, current_recorder
from ..value import Constant, Value

_SLOT = Value.__dict__["data"]  # the member descriptor of the slot
_ENGINE = sys.modules[Value.__module__].__dict__  # autograd.value's globals
_getframe = sys._getframe


def _read(self: Value, _get=_SLOT.__get__, _flags=FLAGS, _frame=_getframe,  # noqa: B008
          _engine=_ENGINE) -> float:
    # (defaults: names bound once, read as locals; this runs for every read)
    data = _get(self)
    if _flags[1]:
        caller = _frame(1).f_globals
        if caller is _engine:  # the engine's own arithmetic (most reads): not fn's
            return data
        caller = caller.get("__name__", "")
        if caller != "autograd" and not caller.startswith("autograd."):
            recorder = current_recorder()
            if recorder is not None:
                recorder.decision(self, "data", None, data)
    return data


def _write(self: Value, data: float) -> None:
    _SLOT.__set__(self, data)


def _watch_slot(name: str) -> property:
    """``grad`` or ``label`` of a Value of the trace: a read by fn's code is
    told to the recorder (an argument's gradient or label is not in the
    Program, so a replay could not follow it); writes pass through."""
    slot = Value.__dict__[name]
    get, put = slot.__get__, slot.__set__

    def read(self: Value, _flags=FLAGS, _frame=_getframe) -> object:  # noqa: B008
        if _flags[1]:
            caller = _frame(1).f_globals.get("__name__", "")
            if caller != "autograd" and not caller.startswith("autograd."):
                recorder = current_recorder()
                if recorder is not None:
                    recorder.attribute_read(self, name)
        return get(self)

    return property(read, put)


class WatchedValue(Value):
    """A Value of a trace in progress: its ``data`` reads are observed."""

    __slots__ = ()
    data = property(_read, _write)
    grad = _watch_slot("grad")
    label = _watch_slot("label")


class WatchedConstant(Constant):
    """A Constant of a trace in progress: its ``data`` reads are observed."""

    __slots__ = ()
    data = property(_read, _write)
    grad = _watch_slot("grad")
    label = _watch_slot("label")


# repr() and error messages print the class name: keep the user's.
WatchedValue.__name__ = WatchedValue.__qualname__ = "Value"
WatchedConstant.__name__ = WatchedConstant.__qualname__ = "Constant"
WATCHED = {Value: WatchedValue, Constant: WatchedConstant}
UNWATCHED = {WatchedValue: Value, WatchedConstant: Constant}


def watch(v: Value) -> None:
    """Switch a Value of the trace to its watched class (other subclasses stay)."""
    cls = WATCHED.get(v.__class__)
    if cls is not None:
        v.__class__ = cls
