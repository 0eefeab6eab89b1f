"""Small built-in data sets, generated on the spot or shipped: nothing to download.

Each loader returns ``(X, y)``: ``X`` a list of rows (lists of floats; the
digits' pixels are ints 0-16 unless scaled), ``y`` a
list with one label per row (ints for classification, floats for ``make_sine``).
Randomness comes only from ``random.Random(seed)``, so the same arguments give
the same data on every run, and the global ``random`` state (which seeds model
initialisation) is never touched.

Registered names and loaders (labels in brackets):

- ``and``, ``or``, ``xor``: ``and_gate(n=4, noise=0.0, seed=0, signed=False)`` and
  likewise ``or_gate``, ``xor_gate`` (0/1, or -1/+1 with ``signed=True``);
- ``moons``: ``make_moons(n=100, noise=0.1, seed=0)`` (0, 1);
- ``circles``: ``make_circles(n=100, noise=0.1, factor=0.5, seed=0)`` (0, 1);
- ``spirals``: ``make_spirals(n=100, k=3, noise=0.05, seed=0)`` (0 .. k-1);
- ``blobs``: ``make_blobs(n=100, centers=3, std=1.0, seed=0)`` (0 .. centers-1);
- ``sine``: ``make_sine(n=100, noise=0.1, seed=0)`` (float targets: regression);
- ``digits``: ``load_digits(n=None, seed=0, scale=False)`` (0 .. 9): real data, the
  1,797 8x8 handwritten digits of UCI optdigits (CC BY 4.0), shipped in the package
  (see ``nn.digits``).

``DATASETS`` maps each name to its loader and ``get_dataset(name, **options)``
calls it by name.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable

from .data import make_rng
from .digits import load_digits

__all__ = [
    "DATASETS",
    "and_gate",
    "get_dataset",
    "load_digits",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_sine",
    "make_spirals",
    "or_gate",
    "xor_gate",
]


# --- argument checking -------------------------------------------------------------


def _count(owner: str, name: str, value, low: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be >= {low}{why}, got {value!r}")
    return int(value)


def _scale(owner: str, name: str, value) -> float:
    """A noise level or standard deviation: a finite float >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    x = _as_float(value)
    if not math.isfinite(x) or x < 0.0:
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return x


def _as_float(value) -> float:
    """float(value), with an int too large for a float read as infinite (not an error)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _per_class(n: int, k: int) -> list[int]:
    """n examples shared out over k classes as evenly as possible (first ones get more)."""
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _angles(m: int, stop: float, endpoint: bool) -> list[float]:
    """m evenly spaced angles from 0 to stop (stop included if endpoint)."""
    if m == 1:
        return [0.0]
    gaps = m - 1 if endpoint else m
    return [stop * i / gaps for i in range(m)]


def _finish(rng, X: list, y: list, noise: float) -> tuple[list, list]:
    """Add Gaussian noise (std ``noise``) to every coordinate, then shuffle the rows."""
    if noise > 0.0:
        X = [[v + rng.gauss(0.0, noise) for v in row] for row in X]
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


# --- logic gates: the lectures' perceptron examples -------------------------------------


def _gate(owner: str, truth, n, noise, seed, signed) -> tuple[list, list]:
    n = _count(owner, "n", n, 4, " so that every row of the truth table appears")
    noise = _scale(owner, "noise", noise)
    if not isinstance(signed, bool):
        raise TypeError(f"{owner}: signed must be True or False, got {signed!r}")
    rng = make_rng(owner, seed)
    lo = -1.0 if signed else 0.0
    X, y = [], []
    for i in range(n):
        a, b = (i >> 1) & 1, i & 1  # rows 00, 01, 10, 11, then again
        label = truth(a, b)
        X.append([1.0 if a else lo, 1.0 if b else lo])
        y.append((1 if label else -1) if signed else label)
    if noise > 0.0:
        X = [[v + rng.gauss(0.0, noise) for v in row] for row in X]
    return X, y


def and_gate(n: int = 4, noise: float = 0.0, seed=0, signed: bool = False) -> tuple[list, list]:
    """The AND truth table: ``X = [[0,0],[0,1],[1,0],[1,1]]``, ``y = [0,0,0,1]``.

    ``signed=True`` encodes both inputs and labels as -1/+1 (the lecture's
    perceptron inputs). ``n > 4`` cycles through the table; ``noise`` adds
    Gaussian jitter (std ``noise``) to the inputs, seeded by ``seed``.
    """
    return _gate("and_gate", lambda a, b: a & b, n, noise, seed, signed)


def or_gate(n: int = 4, noise: float = 0.0, seed=0, signed: bool = False) -> tuple[list, list]:
    """The OR truth table, ``y = [0,1,1,1]``; options as for ``and_gate``."""
    return _gate("or_gate", lambda a, b: a | b, n, noise, seed, signed)


def xor_gate(n: int = 4, noise: float = 0.0, seed=0, signed: bool = False) -> tuple[list, list]:
    """The XOR truth table, ``y = [0,1,1,0]``: not linearly separable, so a single
    perceptron cannot learn it but one hidden layer can. Options as for ``and_gate``.
    """
    return _gate("xor_gate", lambda a, b: a ^ b, n, noise, seed, signed)


# --- 2-D classification -------------------------------------------------------------


def make_moons(n: int = 100, noise: float = 0.1, seed=0) -> tuple[list, list]:
    """Two interleaving half circles in the plane (class 0 on top, class 1 below).

    Class 0 lies on the upper unit half circle, (cos t, sin t) for t in [0, pi];
    class 1 on the lower half circle (1 - cos t, 0.5 - sin t), shifted so each
    moon's tip reaches into the other's hollow: no straight line separates them.
    Points are evenly spaced along each moon (class 0 gets the extra one when n
    is odd), then Gaussian noise of std ``noise`` is added to both coordinates and
    the rows are shuffled.
    """
    n = _count("make_moons", "n", n, 2, " so that both classes appear")
    noise = _scale("make_moons", "noise", noise)
    rng = make_rng("make_moons", seed)
    n0, n1 = _per_class(n, 2)
    X = [[math.cos(t), math.sin(t)] for t in _angles(n0, math.pi, True)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _angles(n1, math.pi, True)]
    return _finish(rng, X, [0] * n0 + [1] * n1, noise)


def make_circles(
    n: int = 100, noise: float = 0.1, factor: float = 0.5, seed=0
) -> tuple[list, list]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    ``factor`` must lie strictly between 0 and 1. Points are evenly spaced
    around each circle, then noise is added and the rows shuffled, as in
    ``make_moons``.
    """
    n = _count("make_circles", "n", n, 2, " so that both classes appear")
    noise = _scale("make_circles", "noise", noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
        raise TypeError(f"make_circles: factor must be a number, got {factor!r}")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"make_circles: factor must be strictly between 0 and 1, got {factor!r}")
    rng = make_rng("make_circles", seed)
    n0, n1 = _per_class(n, 2)
    X = []
    for radius, m in ((1.0, n0), (float(factor), n1)):
        X += [[radius * math.cos(t), radius * math.sin(t)] for t in _angles(m, 2 * math.pi, False)]
    return _finish(rng, X, [0] * n0 + [1] * n1, noise)


def make_spirals(n: int = 100, k: int = 3, noise: float = 0.05, seed=0) -> tuple[list, list]:
    """k spiral arms wound around the origin, one class per arm (labels 0..k-1).

    Arm c starts at angle 2 pi c / k; its i-th of m points sits at radius
    r = (i + 1) / m and angle 2 pi c / k + 4 r, so each arm sweeps 4 radians
    while moving out to radius 1. Noise is added and the rows shuffled, as in
    ``make_moons``. A classic hard case for linear models.
    """
    k = _count("make_spirals", "k", k, 2, " (a classification needs two classes)")
    n = _count("make_spirals", "n", n, k, f" so that each of the k={k} classes appears")
    noise = _scale("make_spirals", "noise", noise)
    rng = make_rng("make_spirals", seed)
    X, y = [], []
    for c, m in enumerate(_per_class(n, k)):
        for i in range(m):
            r = (i + 1) / m
            angle = 2 * math.pi * c / k + 4.0 * r
            X.append([r * math.cos(angle), r * math.sin(angle)])
            y.append(c)
    return _finish(rng, X, y, noise)


def make_blobs(
    n: int = 100,
    centers=3,
    std: float = 1.0,
    seed=0,
    dim: int | None = None,
    box: tuple[float, float] = (-10.0, 10.0),
) -> tuple[list, list]:
    """Gaussian blobs: class c is centred on ``centers[c]`` with spread ``std``.

    ``centers`` is either a count (the centres are then drawn uniformly from
    the square ``box`` in ``dim`` dimensions, default 2) or a list of centre
    points such as ``[[0, 0], [3, 3]]``. The n examples are shared out evenly
    over the centres; each coordinate gets Gaussian noise of std ``std``.
    Rows are shuffled.
    """
    owner = "make_blobs"
    std = _scale(owner, "std", std)
    rng = make_rng(owner, seed)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = _count(owner, "centers", centers, 1)
        dim = 2 if dim is None else _count(owner, "dim", dim, 1)
        lo, hi = _box(box)
        points = [[rng.uniform(lo, hi) for _ in range(dim)] for _ in range(k)]
    else:
        points = _points(centers, dim)
        k = len(points)
    n = _count(owner, "n", n, k, f" so that each of the {k} centers gets a point")
    X, y = [], []
    for c, m in enumerate(_per_class(n, k)):
        X += [list(points[c]) for _ in range(m)]
        y += [c] * m
    return _finish(rng, X, y, std)


def _box(box) -> tuple[float, float]:
    try:
        lo, hi = box
    except (TypeError, ValueError):
        raise TypeError(f"make_blobs: box must be a pair (low, high), got {box!r}") from None
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in (lo, hi)):
        raise TypeError(f"make_blobs: box must hold two numbers, got {box!r}")
    lo, hi = _as_float(lo), _as_float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"make_blobs: box must be finite with low < high, got {box!r}")
    return lo, hi


def _points(centers, dim) -> list[list[float]]:
    owner = "make_blobs"
    bad = TypeError(f"{owner}: centers must be an int or a list of points, got {centers!r}")
    if isinstance(centers, (str, bytes)) or not isinstance(centers, (list, tuple)):
        raise bad
    if not centers:
        raise ValueError(f"{owner}: centers is an empty list")
    points = []
    for i, point in enumerate(centers):
        if isinstance(point, (str, bytes)) or not isinstance(point, (list, tuple)) or not point:
            raise bad
        for v in point:
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(
                _as_float(v)
            ):
                raise ValueError(f"{owner}: centers[{i}] must hold finite numbers, got {point!r}")
        points.append([float(v) for v in point])
    width = len(points[0])
    if any(len(p) != width for p in points):
        raise ValueError(f"{owner}: every center must have the same length, got {centers!r}")
    if dim is not None and dim != width:
        raise ValueError(f"{owner}: dim={dim!r} but the centers have {width} coordinates")
    return points


# --- 1-D regression -----------------------------------------------------------------


def make_sine(n: int = 100, noise: float = 0.1, seed=0) -> tuple[list, list]:
    """A 1-D regression: x uniform in [-pi, pi], target sin(x) + Gaussian noise.

    ``X`` is ``[[x], ...]`` (one feature per row) and ``y`` a list of floats.
    """
    n = _count("make_sine", "n", n, 1)
    noise = _scale("make_sine", "noise", noise)
    rng = make_rng("make_sine", seed)
    xs = [rng.uniform(-math.pi, math.pi) for _ in range(n)]
    ys = [math.sin(x) + rng.gauss(0.0, noise) if noise > 0.0 else math.sin(x) for x in xs]
    return [[x] for x in xs], ys


# --- the registry ---------------------------------------------------------------------

DATASETS: dict[str, Callable[..., tuple[list, list]]] = {
    "and": and_gate,
    "or": or_gate,
    "xor": xor_gate,
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "blobs": make_blobs,
    "sine": make_sine,
    "digits": load_digits,
}


def get_dataset(name: str, **options) -> tuple[list, list]:
    """The data set registered as ``name`` in DATASETS, made with ``options``.

    ``get_dataset("moons", n=200, noise=0.2, seed=1)``. An unknown name or
    option is a ValueError that lists what would have been accepted.
    """
    if not isinstance(name, str):
        raise TypeError(f"get_dataset: name must be a str, got {name!r}")
    loader = DATASETS.get(name.strip().lower())
    if loader is None:
        raise ValueError(
            f"get_dataset: unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}"
        )
    accepted = list(inspect.signature(loader).parameters)
    unknown = [key for key in options if key not in accepted]
    if unknown:
        raise ValueError(
            f"get_dataset: dataset {name!r} has no option {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(accepted)}"
        )
    return loader(**options)
