"""Module: the base class every network piece derives from.

Assigning a Value, a Module, or a list / tuple / dict holding them to a public
attribute registers it, so ``named_parameters()`` can walk the tree and give
every parameter a dotted name ("layers.0.neurons.3.w.1") with no per-layer
boilerplate. Attributes whose name starts with "_" are private state and are
never walked: use them for caches and for callables that are not parameters.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from collections.abc import Iterator
from typing import Any

from autograd import Value

# Every Module subclass, by the name its saved files use (see serialization.py).
MODULE_TYPES: dict[str, type] = {}

_CONTAINERS = (list, tuple, dict)


def type_name(cls: type) -> str:
    """The name a saved file uses for ``cls``: short for nn's own classes."""
    module = cls.__module__
    if module == "nn" or module.startswith("nn."):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


class Module:
    """A tree of parameters (Values) and submodules, with PyTorch-style helpers."""

    training: bool = True
    _children: dict[str, None] = {}  # replaced per instance on first registration

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        MODULE_TYPES[type_name(cls)] = cls

    # --- registration -----------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_children")
        if not name.startswith("_") and isinstance(value, (Value, Module, *_CONTAINERS)):
            if registry is None:
                registry = {}
                object.__setattr__(self, "_children", registry)
            registry[name] = None
        elif registry is not None and name in registry:
            del registry[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        registry = self.__dict__.get("_children")
        if registry is not None:
            registry.pop(name, None)
        object.__delattr__(self, name)

    # --- the forward pass -----------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- walking the tree ---------------------------------------------------------

    def _walk(self, prefix: str, seen: set[int], out: list, named: bool) -> None:
        """Append (name, Value) pairs (or bare Values) in registration order.

        Each Value and each Module is visited once, at its first name, so a
        shared (tied) parameter is stepped once by an optimiser.
        """
        d = self.__dict__
        for attr in self._children:
            if attr in d:
                _walk_item(d[attr], f"{prefix}{attr}" if named else "", seen, out, named)

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted path, in a stable (registration) order."""
        out: list = []
        self._walk("", {id(self)}, out, True)
        return out

    def parameters(self) -> list[Value]:
        """Every parameter once, in the order of ``named_parameters()``."""
        out: list = []
        self._walk("", {id(self)}, out, False)
        return out

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module ("") and every submodule below it, each once, depth first."""
        seen = {id(self)}
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            found = []
            for attr in module._children:
                value = module.__dict__.get(attr)
                base = f"{name}.{attr}" if name else attr
                for sub_name, sub in _submodules(value, base):
                    if id(sub) not in seen:
                        seen.add(id(sub))
                        found.append((sub_name, sub))
            stack.extend(reversed(found))

    def modules(self) -> list[Module]:
        return [m for _, m in self.named_modules()]

    def children(self) -> list[Module]:
        """The direct submodules."""
        out = []
        for attr in self._children:
            out.extend(m for _, m in _submodules(self.__dict__.get(attr), attr))
        return out

    # --- training helpers -------------------------------------------------------

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 before the next backward pass."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        return len(self.parameters())

    def train(self, mode: bool = True) -> Module:
        """Switch this module and every submodule to training mode (or eval if False)."""
        mode = bool(mode)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: RReLU uses its fixed mean slope, for example."""
        return self.train(False)

    # --- state ----------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by dotted name: plain floats, ready for JSON."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Copy values into the parameters; all-or-nothing.

        Raises ValueError naming the missing, unexpected or malformed keys before
        any parameter is changed. Values must be finite real numbers (or Values
        holding one), as in a file ``nn.load`` reads: a NaN or inf weight is refused.
        """
        if not isinstance(state, dict):
            raise ValueError(f"load_state_dict: expected a dict, got {type(state).__name__}")
        named = self.named_parameters()
        expected = [name for name, _ in named]
        missing = [k for k in expected if k not in state]
        known = set(expected)
        unexpected = [k for k in state if k not in known]
        if missing or unexpected:
            parts = [f"{type(self).__name__} has {len(expected)} parameters, got {len(state)}"]
            if missing:
                parts.append(f"missing keys: {_names(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {_names(unexpected)}")
            raise ValueError("load_state_dict: " + "; ".join(parts))
        values = []
        for name in expected:
            v = state[name]
            if isinstance(v, Value):
                v = v.data
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(
                    f"load_state_dict: value for {name!r} must be a real number, got {v!r}"
                )
            try:
                x = float(v)
            except OverflowError:  # an int beyond the float range
                raise ValueError(
                    f"load_state_dict: value for {name!r} is too large for a float: "
                    f"{_short(v, 60)}"
                ) from None
            if not math.isfinite(x):
                raise ValueError(
                    f"load_state_dict: value for {name!r} is {x!r}, not a finite number"
                )
            values.append(x)
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    # --- saving ---------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Constructor arguments, as JSON, that rebuild this architecture.

        Subclasses that want ``save()`` define it; the weights travel separately.
        """
        raise TypeError(
            f"{type(self).__name__} cannot be saved: define config() returning the "
            "keyword arguments that rebuild it"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """Rebuild from ``config()``'s output (the weights are loaded afterwards)."""
        return cls(**config)

    def save(self, path: str) -> None:
        """Write architecture and weights to ``path`` as JSON, atomically."""
        from .serialization import save

        save(self, path)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except Exception:
            args = "..."
        return f"{type(self).__name__}({args})"


def _walk_item(value: Any, name: str, seen: set[int], out: list, named: bool) -> None:
    if isinstance(value, Value):
        if id(value) not in seen:
            seen.add(id(value))
            out.append((name, value) if named else value)
    elif isinstance(value, Module):
        if id(value) not in seen:
            seen.add(id(value))
            value._walk(f"{name}." if named else "", seen, out, named)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk_item(item, f"{name}.{i}" if named else "", seen, out, named)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_item(item, f"{name}.{key}" if named else "", seen, out, named)


def _submodules(value: Any, name: str) -> Iterator[tuple[str, Module]]:
    if isinstance(value, Module):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _submodules(item, f"{name}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _submodules(item, f"{name}.{key}")


def _names(keys: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(k) for k in keys[:limit])
    more = len(keys) - limit
    return f"[{shown}{f', ... ({more} more)' if more > 0 else ''}]"


# --- a parameter budget for building from untrusted specs -------------------------

# While a file is loaded, the architecture may create at most as many parameters
# as the file holds: a few bytes of config ({"nin": 10**12}) must not allocate
# terabytes before the weight check could notice. None outside ``parameter_budget``.
_BUDGET: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "nn_parameter_budget", default=None
)


@contextlib.contextmanager
def parameter_budget(holds: int, slack: int = 10_000) -> Iterator[None]:
    """Let the layers built inside this block create at most ``holds + slack`` parameters.

    The slack lets an architecture that is only slightly off be built, so that
    ``load_state_dict`` can name the missing weights exactly.
    """
    token = _BUDGET.set([holds, holds + slack])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def reserve_parameters(who: str, count: int) -> None:
    """Called by a layer before it creates ``count`` parameters; ValueError past the budget."""
    budget = _BUDGET.get()
    if budget is None:
        return
    if count > budget[1]:
        raise ValueError(
            f"{who} would create far more parameters than the {budget[0]} the file holds"
        )
    budget[1] -= count


# --- architecture specs: {"type": ..., "config": ...} ------------------------------

def module_spec(module: Module) -> dict[str, Any]:
    """The JSON description of ``module``'s architecture (no weights)."""
    return {"type": type_name(type(module)), "config": module.config()}


def build_module(spec: Any) -> Module:
    """Rebuild a module from ``module_spec``'s output; ValueError says what is wrong.

    Only registered Module subclasses can be built: a file never names code to run.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ValueError(f"a model spec must be a dict with a 'type' string, got {_short(spec)}")
    name = spec["type"]
    cls = MODULE_TYPES.get(name)
    if cls is None:
        raise ValueError(
            f"unknown module type {name!r} (import the module that defines it first); "
            f"known types: {', '.join(sorted(MODULE_TYPES))}"
        )
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"config of {name} must be a dict, got {_short(config)}")
    try:
        return cls.from_config(config)
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as err:
        # A config from a file can hold any JSON: whatever a constructor makes of
        # it, the caller gets one ValueError that says which module failed.
        raise ValueError(f"cannot rebuild {name} from config {_short(config)}: {err}") from None


def _short(x: Any, limit: int = 200) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."
