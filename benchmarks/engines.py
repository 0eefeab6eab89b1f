"""One small adapter per engine, so every workload is written once.

An adapter names the handful of operations a workload needs beyond ``+`` and
``*``: make a parameter leaf, make an input, relu, run backward, read a value
and a gradient, zero gradients. The plain-floats adapter has no backward: it is
the floor, the cost of the arithmetic alone.

micrograd and PyTorch are optional: ``available_engines()`` returns only the
engines that import, and ``skipped_engines()`` says why the others are missing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

ORDER = ("ours", "micrograd", "torch", "floats")
TITLES = {
    "ours": "chainrule",
    "micrograd": "micrograd",
    "torch": "PyTorch 0-d float64",
    "floats": "plain floats (forward only)",
}

_read_grad = attrgetter("grad")
_read_data = attrgetter("data")


@dataclass
class Engine:
    """The operations a workload needs from one engine.

    ``leaf(x)`` makes a parameter (it gets a gradient); ``input(x)`` makes a
    data input the way that engine's users do; ``relu``, ``backward``,
    ``value`` and ``grad`` are plain callables (unbound methods where possible,
    so the adapter adds no Python frame to the hot loop).
    """

    name: str
    leaf: Callable[[float], Any]
    input: Callable[[float], Any]
    relu: Callable[[Any], Any]
    value: Callable[[Any], float]
    grad: Callable[[Any], float] | None = None
    backward: Callable[[Any], None] | None = None
    zero_grad: Callable[[list], None] | None = None
    module: Any = None  # the imported package, for library-specific workloads
    version: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_grad(self) -> bool:
        return self.backward is not None

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# --- ours ---------------------------------------------------------------------------


def _ours() -> Engine:
    import autograd

    def zero_grad(params: list) -> None:
        for p in params:
            p.grad = 0.0

    return Engine(
        name="ours",
        leaf=autograd.Value,
        input=autograd.Value,
        relu=autograd.Value.relu,
        value=_read_data,
        grad=_read_grad,
        backward=autograd.Value.backward,
        zero_grad=zero_grad,
        module=autograd,
        version=_version("chainrule"),
    )


def our_mlp_class():
    """``nn.MLP`` if the nn package provides it yet, else None."""
    try:
        nn = importlib.import_module("nn")
    except ImportError:
        return None
    mlp = getattr(nn, "MLP", None)
    if mlp is None:
        try:
            mlp = getattr(importlib.import_module("nn.layers"), "MLP", None)
        except ImportError:
            return None
    return mlp


def our_compile():
    """``autograd.compile`` if the engine provides it, else None."""
    import autograd

    return getattr(autograd, "compile", None)


def our_fit():
    """``nn.fit`` if it trains both compiled and eagerly (its ``compile`` argument), else None."""
    try:
        nn = importlib.import_module("nn")
    except ImportError:
        return None
    fit = getattr(nn, "fit", None)
    if fit is None:
        return None
    try:
        accepts = "compile" in inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return None
    return fit if accepts else None


# --- micrograd ----------------------------------------------------------------------


def _micrograd() -> Engine:
    import micrograd.engine
    import micrograd.nn  # noqa: F401  (checked here, used by the own-MLP workload)

    value = micrograd.engine.Value

    def zero_grad(params: list) -> None:
        for p in params:
            p.grad = 0

    return Engine(
        name="micrograd",
        leaf=value,
        input=value,
        relu=value.relu,
        value=_read_data,
        grad=_read_grad,
        backward=value.backward,
        zero_grad=zero_grad,
        module=micrograd,
        version=_version("micrograd"),
    )


# --- PyTorch 0-d tensors ------------------------------------------------------------


def _torch() -> Engine:
    with warnings.catch_warnings():  # torch warns at import when numpy is missing
        warnings.filterwarnings("ignore", message=".*NumPy.*")
        import torch

    f64 = torch.float64
    tensor = torch.tensor

    def leaf(x: float):
        return tensor(x, dtype=f64, requires_grad=True)

    def data_input(x: float):
        return tensor(x, dtype=f64)

    def grad(p) -> float:
        g = p.grad
        return 0.0 if g is None else g.item()

    def zero_grad(params: list) -> None:
        for p in params:
            p.grad = None

    return Engine(
        name="torch",
        leaf=leaf,
        input=data_input,
        relu=torch.relu,
        value=torch.Tensor.item,
        grad=grad,
        backward=torch.Tensor.backward,
        zero_grad=zero_grad,
        module=torch,
        version=torch.__version__,
        extra={"threads": torch.get_num_threads()},
    )


# --- plain floats --------------------------------------------------------------------


def _float_relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def _floats() -> Engine:
    return Engine(name="floats", leaf=float, input=float, relu=_float_relu, value=float)


# --- discovery -----------------------------------------------------------------------

_FACTORIES = {"ours": _ours, "micrograd": _micrograd, "torch": _torch, "floats": _floats}
_SKIPPED: dict[str, str] = {}


def available_engines(names: tuple[str, ...] = ORDER) -> dict[str, Engine]:
    """The engines that import, in ``ORDER``; the reasons for the rest in ``skipped_engines``."""
    engines = {}
    for name in ORDER:
        if name not in names:
            continue
        try:
            engines[name] = _FACTORIES[name]()
        except ImportError as err:
            _SKIPPED[name] = f"not installed ({err})"
    return engines


def skipped_engines() -> dict[str, str]:
    return dict(_SKIPPED)


# --- running micrograd's recursive backward --------------------------------------------

DEEP_STACK_BYTES = 512 * 1024 * 1024


def run_with_deep_stack(fn: Callable[[], Any], depth: int) -> Any:
    """Call ``fn`` in a thread with a 512 MB stack (or the most the platform allows) and
    room for ``depth`` nested calls.

    micrograd orders its graph with a recursive function, one Python frame per
    node of the longest path; the default recursion limit (1000) and, on some
    builds, the C stack of the main thread are too small for deep graphs.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as err:  # re-raised in the caller's thread
            box["error"] = err

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    for size in (DEEP_STACK_BYTES, DEEP_STACK_BYTES // 4, DEEP_STACK_BYTES // 16):
        try:
            threading.stack_size(size)
            break
        except ValueError:  # the platform caps thread stacks lower
            continue
    sys.setrecursionlimit(max(old_limit, 2 * depth + 10_000))
    try:
        thread = threading.Thread(target=target, name="deep-stack")
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]
    return box["result"]
