"""Built-in data sets, train/validation splits and mini-batches."""

import math
import random
from collections import Counter

import pytest

from nn.data import batches, num_batches, train_val_split
from nn.datasets import (
    DATASETS,
    and_gate,
    get_dataset,
    make_blobs,
    make_circles,
    make_moons,
    make_sine,
    make_spirals,
    or_gate,
    xor_gate,
)

CORNERS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

# --- logic gates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gate, labels",
    [(and_gate, [0, 0, 0, 1]), (or_gate, [0, 1, 1, 1]), (xor_gate, [0, 1, 1, 0])],
)
def test_gates_are_their_truth_tables(gate, labels):
    assert gate() == (CORNERS, labels)
    X, y = gate(signed=True)
    assert X == [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    assert y == [2 * t - 1 for t in labels]  # 0 -> -1, 1 -> +1


def test_gates_with_more_points_cycle_the_table_and_jitter_only_the_inputs():
    rows, y = xor_gate(n=10)
    assert rows == (CORNERS * 3)[:10] and y == ([0, 1, 1, 0] * 3)[:10]
    noisy, yn = xor_gate(n=10, noise=0.1, seed=3)
    assert yn == y and noisy != rows
    pairs = zip(sum(noisy, []), sum(rows, []), strict=True)
    assert all(abs(a - b) < 0.6 for a, b in pairs)
    assert xor_gate(n=10, noise=0.1, seed=3) == (noisy, yn)


# --- shapes, labels, seeding -----------------------------------------------------------

CLASSIFIERS = [
    ("moons", {}, 2, {0, 1}),
    ("circles", {}, 2, {0, 1}),
    ("spirals", {}, 2, {0, 1, 2}),
    ("spirals", {"k": 5}, 2, {0, 1, 2, 3, 4}),
    ("blobs", {}, 2, {0, 1, 2}),
    ("blobs", {"centers": 4, "dim": 3}, 3, {0, 1, 2, 3}),
]


@pytest.mark.parametrize("name, options, width, labels", CLASSIFIERS)
def test_classification_sets_have_the_promised_shape(name, options, width, labels):
    X, y = get_dataset(name, n=101, **options)
    assert len(X) == len(y) == 101
    assert all(isinstance(row, list) and len(row) == width for row in X)
    assert all(type(v) is float and math.isfinite(v) for row in X for v in row)
    assert set(y) == labels and all(type(t) is int for t in y)
    counts = Counter(y).values()
    assert max(counts) - min(counts) <= 1  # shared out evenly over the classes


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "blobs", "sine"])
def test_seeding_is_reproducible_and_seeds_differ(name):
    assert get_dataset(name, seed=7) == get_dataset(name, seed=7)
    assert get_dataset(name, seed=7) != get_dataset(name, seed=8)
    assert get_dataset(name, n=30) != get_dataset(name, n=31)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_loaders_leave_the_global_random_state_alone(name):
    random.seed(123)
    expected = random.random()
    random.seed(123)
    get_dataset(name, seed=5)
    assert random.random() == expected


# --- geometry ----------------------------------------------------------------------------


def test_moons_lie_on_two_interleaving_half_circles():
    X, y = make_moons(n=100, noise=0.0)
    assert Counter(y) == {0: 50, 1: 50}
    for (a, b), label in zip(X, y, strict=True):
        if label == 0:  # upper unit half circle around (0, 0)
            assert a * a + b * b == pytest.approx(1.0) and b >= -1e-12
        else:  # lower unit half circle around (1, 0.5)
            assert (a - 1) ** 2 + (b - 0.5) ** 2 == pytest.approx(1.0) and b <= 0.5 + 1e-12
    assert y != sorted(y)  # shuffled, not all of class 0 first


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_moons_are_not_linearly_separable(noise):
    X, y = make_moons(n=200, noise=noise, seed=1)
    assert 0.45 < sum(y) / len(y) < 0.55
    # For every direction, the two classes' projections overlap: no line separates them.
    for step in range(360):
        u = (math.cos(math.radians(step)), math.sin(math.radians(step)))
        proj = [[], []]
        for (a, b), label in zip(X, y, strict=True):
            proj[label].append(a * u[0] + b * u[1])
        assert max(proj[0]) > min(proj[1]) and max(proj[1]) > min(proj[0])


def test_circles_have_radius_one_and_factor():
    X, y = make_circles(n=60, noise=0.0, factor=0.3)
    radii = {label: set() for label in (0, 1)}
    for (a, b), label in zip(X, y, strict=True):
        radii[label].add(round(math.hypot(a, b), 9))
    assert radii == {0: {1.0}, 1: {0.3}}


def test_spiral_arms_start_at_their_angles_and_reach_radius_one():
    X, y = make_spirals(n=40, k=4, noise=0.0)
    for c in range(4):
        rows = [row for row, label in zip(X, y, strict=True) if label == c]
        assert max(math.hypot(a, b) for a, b in rows) == pytest.approx(1.0)
        outer = max(rows, key=lambda r: math.hypot(*r))
        assert math.atan2(outer[1], outer[0]) % (2 * math.pi) == pytest.approx(
            (2 * math.pi * c / 4 + 4.0) % (2 * math.pi)
        )


def test_blobs_centre_on_the_given_points():
    centers = [[0.0, 0.0], [5.0, -5.0]]
    X, y = make_blobs(n=10, centers=centers, std=0.0)
    assert all(row == centers[label] for row, label in zip(X, y, strict=True))
    X, y = make_blobs(n=2000, centers=centers, std=0.5, seed=2)
    for c, (cx, cy) in enumerate(centers):
        rows = [row for row, label in zip(X, y, strict=True) if label == c]
        assert sum(r[0] for r in rows) / len(rows) == pytest.approx(cx, abs=0.05)
        assert sum(r[1] for r in rows) / len(rows) == pytest.approx(cy, abs=0.05)
        spread = math.sqrt(sum((r[0] - cx) ** 2 for r in rows) / len(rows))
        assert spread == pytest.approx(0.5, rel=0.1)


def test_random_blob_centres_lie_in_the_box():
    X, y = make_blobs(n=30, centers=3, std=0.0, box=(2.0, 3.0))
    assert all(2.0 <= v <= 3.0 for row in X for v in row)
    assert len({tuple(row) for row in X}) == 3  # three distinct centres, each repeated


def test_sine_is_a_noisy_regression_on_minus_pi_to_pi():
    X, y = make_sine(n=500, noise=0.0)
    assert all(len(row) == 1 and -math.pi <= row[0] <= math.pi for row in X)
    assert all(t == math.sin(row[0]) for row, t in zip(X, y, strict=True))
    assert min(r[0] for r in X) < -2.5 and max(r[0] for r in X) > 2.5  # spans the interval
    Xn, yn = make_sine(n=2000, noise=0.2, seed=4)
    residuals = [t - math.sin(row[0]) for row, t in zip(Xn, yn, strict=True)]
    assert all(type(t) is float for t in yn)
    assert math.sqrt(sum(r * r for r in residuals) / len(residuals)) == pytest.approx(0.2, rel=0.1)


# --- argument checking -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: make_moons(n=0), ValueError, r"make_moons: n must be >= 2.*got 0"),
        (lambda: make_moons(n=-5), ValueError, r"n must be >= 2.*got -5"),
        (lambda: make_moons(n=10.0), TypeError, r"n must be an int, got 10\.0"),
        (lambda: make_moons(noise=-0.1), ValueError, r"noise must be .* >= 0, got -0\.1"),
        (lambda: make_moons(noise=math.nan), ValueError, r"noise .* got nan"),
        (lambda: make_moons(seed="a"), TypeError, r"seed must be an int"),
        (lambda: make_circles(factor=1.0), ValueError, r"factor .* between 0 and 1, got 1\.0"),
        (lambda: make_circles(n=0), ValueError, r"make_circles: n must be >= 2"),
        (lambda: make_spirals(k=1), ValueError, r"k must be >= 2.*got 1"),
        (lambda: make_spirals(n=2, k=3), ValueError, r"n must be >= 3.*got 2"),
        (lambda: make_spirals(noise=-1.0), ValueError, r"noise .* got -1\.0"),
        (lambda: make_blobs(std=-1.0), ValueError, r"std .* got -1\.0"),
        (lambda: make_blobs(centers=0), ValueError, r"centers must be >= 1, got 0"),
        (lambda: make_blobs(centers=[[0, 0], [1]]), ValueError, r"same length"),
        (lambda: make_blobs(centers=[[0, 0]], dim=3), ValueError, r"dim=3"),
        (lambda: make_blobs(n=2, centers=3), ValueError, r"n must be >= 3.*got 2"),
        (lambda: make_sine(n=0), ValueError, r"make_sine: n must be >= 1, got 0"),
        (lambda: xor_gate(n=3), ValueError, r"n must be >= 4.*got 3"),
        (lambda: and_gate(noise=-0.5), ValueError, r"noise .* got -0\.5"),
        (lambda: or_gate(signed="yes"), TypeError, r"signed must be True or False"),
    ],
)
def test_bad_arguments_are_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# --- the registry ------------------------------------------------------------------------


def test_registry_names_and_lookup():
    assert set(DATASETS) == {
        "and", "or", "xor", "moons", "circles", "spirals", "blobs", "sine", "digits",
    }
    assert DATASETS["xor"] is xor_gate
    assert get_dataset("moons", n=20, noise=0.2, seed=3) == make_moons(20, 0.2, 3)
    assert get_dataset(" XOR ") == xor_gate()


def test_registry_errors_list_the_choices():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; choose one of: and, or, xor"):
        get_dataset("mnist")
    expected = r"'moons' has no option 'factor'; it takes n, noise, seed"
    with pytest.raises(ValueError, match=expected):
        get_dataset("moons", factor=0.5)


# --- train_val_split ---------------------------------------------------------------------


def ids(n):
    """A data set whose rows name themselves: X[i] = [i], y[i] = i."""
    return [[float(i)] for i in range(n)], list(range(n))


def test_split_is_disjoint_covers_the_data_and_keeps_pairs():
    X, y = ids(100)
    Xtr, ytr, Xva, yva = train_val_split(X, y, val_fraction=0.2, seed=0)
    assert (len(Xtr), len(ytr), len(Xva), len(yva)) == (80, 80, 20, 20)
    assert set(ytr).isdisjoint(yva) and sorted(ytr + yva) == y
    assert all(row == [float(t)] for row, t in zip(Xtr + Xva, ytr + yva, strict=True))
    assert yva != list(range(80, 100)) and ytr != sorted(ytr)  # shuffled, not a plain slice


def test_split_is_seeded():
    X, y = ids(50)
    assert train_val_split(X, y, seed=1) == train_val_split(X, y, seed=1)
    assert train_val_split(X, y, seed=1) != train_val_split(X, y, seed=2)


def test_split_never_leaves_a_side_empty():
    X, y = ids(3)
    assert [len(part) for part in train_val_split(X, y, val_fraction=0.01)] == [2, 2, 1, 1]
    assert [len(part) for part in train_val_split(X, y, val_fraction=0.99)] == [1, 1, 2, 2]


@pytest.mark.parametrize(
    "args, error, pattern",
    [
        ((ids(10)[0], ids(10)[1], 0.0), ValueError, r"val_fraction .* between 0 and 1, got 0\.0"),
        ((ids(10)[0], ids(10)[1], 1.0), ValueError, r"val_fraction .* got 1\.0"),
        ((ids(10)[0], ids(10)[1], 1.5), ValueError, r"val_fraction .* got 1\.5"),
        ((ids(10)[0], ids(10)[1], math.nan), ValueError, r"val_fraction .* got nan"),
        ((ids(10)[0], ids(9)[1], 0.2), ValueError, r"len\(X\)=10 and len\(y\)=9"),
        ((ids(1)[0], ids(1)[1], 0.5), ValueError, r"at least 2 examples to split, got 1"),
        (([], [], 0.5), ValueError, r"empty"),
    ],
)
def test_split_bad_arguments(args, error, pattern):
    with pytest.raises(error, match=pattern):
        train_val_split(*args)


# --- batches -------------------------------------------------------------------------------


def test_batches_cover_every_example_once_with_the_right_sizes():
    X, y = ids(100)
    out = list(batches(X, y, 32, seed=0))
    assert [len(xb) for xb, _ in out] == [32, 32, 32, 4]  # the last, partial batch is kept
    seen = [t for _, yb in out for t in yb]
    assert sorted(seen) == y and seen != y  # each exactly once, in shuffled order
    assert all(row == [float(t)] for xb, yb in out for row, t in zip(xb, yb, strict=True))


def test_full_batch_and_oversized_batches():
    X, y = ids(10)
    (only,) = list(batches(X, y, None, shuffle=False))
    assert only == (X, y)
    (whole,) = list(batches(X, y, 1000, seed=1))
    assert sorted(whole[1]) == y
    assert [len(b[0]) for b in batches(X, y, 1)] == [1] * 10  # stochastic gradient descent


def test_batches_without_shuffle_keep_the_order():
    X, y = ids(7)
    assert [yb for _, yb in batches(X, y, 3, shuffle=False)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_batch_order_is_seeded_and_a_generator_gives_new_orders_per_epoch():
    X, y = ids(40)
    first = [yb for _, yb in batches(X, y, 8, seed=3)]
    assert first == [yb for _, yb in batches(X, y, 8, seed=3)]
    assert first != [yb for _, yb in batches(X, y, 8, seed=4)]
    rng = random.Random(9)
    epoch1 = [yb for _, yb in batches(X, y, 8, seed=rng)]
    epoch2 = [yb for _, yb in batches(X, y, 8, seed=rng)]
    assert epoch1 != epoch2
    rng = random.Random(9)
    assert [yb for _, yb in batches(X, y, 8, seed=rng)] == epoch1


@pytest.mark.parametrize(
    "batch_size, error, pattern",
    [
        (0, ValueError, r"batch_size must be >= 1 .* got 0"),
        (-4, ValueError, r"batch_size .* got -4"),
        (2.5, TypeError, r"batch_size must be an int or None, got 2\.5"),
        (True, TypeError, r"batch_size .* got True"),
    ],
)
def test_bad_batch_sizes_raise_at_the_call(batch_size, error, pattern):
    X, y = ids(10)
    with pytest.raises(error, match=pattern):
        batches(X, y, batch_size)  # no iteration needed: checked up front


def test_batches_other_bad_arguments():
    X, y = ids(10)
    with pytest.raises(ValueError, match=r"len\(X\)=10 and len\(y\)=3"):
        batches(X, y[:3], 2)
    with pytest.raises(ValueError, match="empty"):
        batches([], [], 2)
    with pytest.raises(TypeError, match="seed must be"):
        batches(X, y, 2, seed=1.5)


def test_num_batches_matches_batches():
    X, y = ids(100)
    for size in (None, 1, 7, 32, 100, 150):
        assert num_batches(100, size) == len(list(batches(X, y, size)))
    assert num_batches(0, 8) == 0
