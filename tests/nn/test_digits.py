"""nn.load_digits: the 8x8 handwritten digits shipped inside the package."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from importlib import resources

import pytest

import nn
from nn.digits import DIGITS_CREDIT, load_digits, scale_pixels

# The digits scikit-learn 1.9.1 returns from sklearn.datasets.load_digits(), rows as
# "p0,...,p63;label\n": the shipped file must hold exactly these numbers, in this order.
SKLEARN_SHA256 = "dec7fa55ebe3698c2eb6eb7df897cf430977cd66be20f9542ad89c102cbe4eaf"
CLASS_COUNTS = {0: 178, 1: 182, 2: 177, 3: 183, 4: 181, 5: 182, 6: 181, 7: 179, 8: 174, 9: 180}


def fingerprint(X, y) -> str:
    h = hashlib.sha256()
    for row, label in zip(X, y, strict=True):
        h.update((",".join(map(str, row)) + f";{label}\n").encode())
    return h.hexdigest()


def test_shape_labels_and_pixel_range():
    X, y = nn.load_digits()
    assert len(X) == len(y) == 1797
    assert all(type(row) is list and len(row) == 64 for row in X)
    assert all(type(v) is int and 0 <= v <= 16 for row in X for v in row)
    assert {min(v for row in X for v in row), max(v for row in X for v in row)} == {0, 16}
    assert all(type(t) is int for t in y)
    assert Counter(y) == CLASS_COUNTS


def test_the_numbers_are_scikit_learns_digits():
    X, y = nn.load_digits()
    assert fingerprint(X, y) == SKLEARN_SHA256
    assert X[0][:16] == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0] and y[:3] == [0, 1, 2]


def test_the_docstring_credits_the_source_and_licence():
    doc = " ".join(load_digits.__doc__.split())
    for words in ("Alpaydin", "Kaynak", "Optical Recognition of Handwritten Digits",
                  "UCI Machine Learning Repository", "https://doi.org/10.24432/C50P49",
                  "CC BY 4.0"):
        assert words in doc and words in DIGITS_CREDIT
    assert nn.load_digits is load_digits and nn.get_dataset("digits") == load_digits()


def test_each_call_gives_fresh_lists():
    X, y = load_digits()
    X[0][0] = 99
    y[0] = 7
    X2, y2 = load_digits()
    assert X2[0][0] == 0 and y2[0] == 0


def test_a_seeded_subset_is_reproducible_and_drawn_from_the_digits():
    X, y = load_digits()
    pairs = Counter(zip(map(tuple, X), y, strict=True))
    Xs, ys = load_digits(n=100, seed=3)
    assert len(Xs) == len(ys) == 100
    assert (Xs, ys) == load_digits(n=100, seed=3) == nn.get_dataset("digits", n=100, seed=3)
    assert (Xs, ys) != load_digits(n=100, seed=4)
    assert all(pairs[(tuple(row), t)] > 0 for row, t in zip(Xs, ys, strict=True))
    assert sorted(fingerprint([r], [t]) for r, t in zip(*load_digits(n=1797, seed=9),
                                                         strict=True)) == sorted(
        fingerprint([r], [t]) for r, t in zip(X, y, strict=True))


def test_the_global_random_state_is_untouched():
    random.seed(5)
    expected = random.random()
    random.seed(5)
    load_digits(n=10, seed=1)
    assert random.random() == expected


def test_scaled_pixels_are_sixteenths_in_the_unit_interval():
    X, y = load_digits()
    Xs, ys = load_digits(scale=True)
    assert ys == y
    assert all(type(v) is float and 0.0 <= v <= 1.0 for row in Xs for v in row)
    assert Xs == scale_pixels(X) and Xs[0][3] == 13 / 16


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n": 0}, ValueError, "n must be between 1 and 1797, got 0"),
        ({"n": 1798}, ValueError, "between 1 and 1797, got 1798"),
        ({"n": 2.5}, TypeError, "n must be an int or None, got 2.5"),
        ({"n": True}, TypeError, "n must be an int or None"),
        ({"n": 5, "seed": "x"}, TypeError, "seed must be an int"),
        ({"scale": 1}, TypeError, "scale must be True or False, got 1"),
    ],
)
def test_bad_arguments_name_the_loader_and_the_value(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        load_digits(**kwargs)
    assert str(info.value).startswith("load_digits:")


def test_scale_pixels_names_a_bad_row():
    with pytest.raises(TypeError, match=r"scale_pixels: X\[1\] must be a row of numbers"):
        scale_pixels([[1, 2], ["a"]])


def test_the_data_file_is_package_data():
    path = resources.files("nn").joinpath("datafiles", "digits.txt.gz")
    assert path.is_file() and path.read_bytes()[:2] == b"\x1f\x8b"  # gzip


def test_the_readme_dataset_table_credits_the_digits():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Datasets"):readme.index("## Training")]
    text = " ".join(section.split())
    assert "| `digits` | `nn.load_digits(" in section
    for words in ("E. Alpaydin and C. Kaynak", "Optical Recognition of Handwritten Digits",
                  "UCI Machine Learning Repository", "10.24432/C50P49", "CC BY 4.0"):
        assert words.replace("*", "") in text.replace("*", ""), words
