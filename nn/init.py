"""Weight initialisers and seeding.

An initialiser is any callable ``init(fan_in, fan_out, rng) -> float`` that
draws one weight; layers call it once per weight, in parameter order. ``rng``
is a ``random.Random`` or the ``random`` module itself, which is the default:
so ``random.seed(s)`` (or ``nn.manual_seed(s)``) reproduces a model exactly,
and an ``rng=random.Random(s)`` argument gives a model its own stream.

Why the choices matter (see the lectures): all-equal weights never break the
symmetry between units (``Constant`` shows the failure); Xavier keeps the
variance of activations steady through tanh/sigmoid layers, He through ReLU
layers; ReLU biases may start at a small positive constant such as 0.1 so
units begin active.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from typing import Any

Initializer = Callable[[int, int, Any], float]
InitSpec = str | float | int | Initializer | None


def manual_seed(seed: int) -> None:
    """Seed Python's ``random`` module, which layers draw from by default."""
    random.seed(seed)


def finite_real(owner: str, name: str, value: Any) -> float:
    """``value`` as a float: TypeError unless a real number (bools and strings are
    not), ValueError unless finite. The message names ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")
    return x


class Uniform:
    """U(low, high); the default U(-1, 1) is micrograd's and the lecture's."""

    def __init__(self, low: float = -1.0, high: float = 1.0) -> None:
        low, high = finite_real("Uniform", "low", low), finite_real("Uniform", "high", high)
        if not low <= high:
            raise ValueError(f"Uniform: low {low} must not exceed high {high}")
        self.low, self.high = low, high

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        return rng.uniform(self.low, self.high)

    def __repr__(self) -> str:
        return f"Uniform({self.low}, {self.high})"


class Normal:
    """N(mean, std^2)."""

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.mean = finite_real("Normal", "mean", mean)
        self.std = finite_real("Normal", "std", std)
        if self.std < 0:
            raise ValueError(f"Normal: std must be >= 0, got {std!r}")

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        return rng.gauss(self.mean, self.std)

    def __repr__(self) -> str:
        return f"Normal({self.mean}, {self.std})"


class XavierUniform:
    """Glorot: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)); for tanh and sigmoid."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = finite_real(type(self).__name__, "gain", gain)

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        a = self.gain * math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a)

    def __repr__(self) -> str:
        return f"XavierUniform(gain={self.gain})"


class XavierNormal:
    """Glorot: N(0, s^2) with s = gain sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = finite_real(type(self).__name__, "gain", gain)

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        return rng.gauss(0.0, self.gain * math.sqrt(2.0 / (fan_in + fan_out)))

    def __repr__(self) -> str:
        return f"XavierNormal(gain={self.gain})"


class HeUniform:
    """Kaiming: U(-a, a) with a = gain sqrt(3 / fan_in), gain sqrt(2) for ReLU."""

    def __init__(self, gain: float = math.sqrt(2.0)) -> None:
        self.gain = finite_real(type(self).__name__, "gain", gain)

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        a = self.gain * math.sqrt(3.0 / fan_in)
        return rng.uniform(-a, a)

    def __repr__(self) -> str:
        return f"HeUniform(gain={self.gain})"


class HeNormal:
    """Kaiming: N(0, s^2) with s = gain / sqrt(fan_in), gain sqrt(2) for ReLU."""

    def __init__(self, gain: float = math.sqrt(2.0)) -> None:
        self.gain = finite_real(type(self).__name__, "gain", gain)

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        return rng.gauss(0.0, self.gain / math.sqrt(fan_in))

    def __repr__(self) -> str:
        return f"HeNormal(gain={self.gain})"


class Constant:
    """Every weight the same value; draws nothing from the generator."""

    def __init__(self, value: float) -> None:
        self.value = finite_real("Constant", "value", value)

    def __call__(self, fan_in: int, fan_out: int, rng: Any) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value})"


def Zeros() -> Constant:
    """All weights 0 (fine for biases; for weights it shows the symmetry failure)."""
    return Constant(0.0)


GlorotUniform = XavierUniform
GlorotNormal = XavierNormal
KaimingUniform = HeUniform
KaimingNormal = HeNormal

_BY_NAME: dict[str, Callable[[], Initializer]] = {
    "uniform": Uniform,
    "normal": Normal,
    "xavier_uniform": XavierUniform,
    "glorot_uniform": XavierUniform,
    "xavier_normal": XavierNormal,
    "glorot_normal": XavierNormal,
    "he_uniform": HeUniform,
    "kaiming_uniform": HeUniform,
    "he_normal": HeNormal,
    "kaiming_normal": HeNormal,
    "zeros": Zeros,
    "ones": lambda: Constant(1.0),
}
INITIALIZERS: tuple[str, ...] = tuple(sorted(_BY_NAME))


def get_initializer(spec: InitSpec, default: Initializer | None = None) -> Initializer:
    """An initialiser from a name, a number (a constant), a callable, or None (``default``)."""
    if spec is None:
        return default if default is not None else Uniform()
    if isinstance(spec, bool):
        raise ValueError(f"initialiser must be a name, number or callable, got {spec!r}")
    if isinstance(spec, (int, float)):
        return Constant(spec)
    if isinstance(spec, str):
        try:
            return _BY_NAME[spec.lower()]()
        except KeyError:
            raise ValueError(
                f"unknown initialiser {spec!r}; valid names: {', '.join(INITIALIZERS)}"
            ) from None
    if callable(spec):
        return spec
    raise ValueError(f"initialiser must be a name, number or callable, got {spec!r}")


def generator(rng: Any, owner: str = "nn") -> Any:
    """The generator layers draw from: ``rng`` if given, else the ``random`` module.

    TypeError unless ``rng`` is None or has ``uniform`` and ``gauss`` (a
    ``random.Random``), so a bad value (from a hand-edited file, say) fails now.
    """
    if rng is None:
        return random
    if not (callable(getattr(rng, "uniform", None)) and callable(getattr(rng, "gauss", None))):
        raise TypeError(
            f"{owner}: rng must be a random.Random (or None for Python's random module), "
            f"got {rng!r}"
        )
    return rng
