"""nn.plots for classifiers: the confusion matrix, digit grids and misclassified images."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import nn

pytest.importorskip("matplotlib")

from nn.plots import plot_confusion_matrix, plot_digits, plot_misclassified  # noqa: E402


def test_the_confusion_matrix_shows_every_nonzero_count_with_true_rows(tmp_path):
    matrix = [[5, 0, 1], [0, 4, 0], [2, 0, 3]]
    fig = plot_confusion_matrix(matrix, tmp_path / "c.svg", classes=["a", "b", "c"], title="t")
    ax = fig.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text())
             for t in ax.texts}
    assert cells == {(i, j): c for i, row in enumerate(matrix) for j, c in enumerate(row) if c}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_ylabel() == "true class" and ax.get_xlabel().startswith("taken for")
    assert ax.get_title() == "t\n12 of 15 right (80.0%)"
    assert ET.parse(tmp_path / "c.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize(
    "matrix, classes, message",
    [
        ([], None, "must be square and non-empty"),
        ([[1, 2], [3]], None, "must be square"),
        ([[1, 2], [3, 4]], ["only one"], "1 class names for 2 classes"),
    ],
)
def test_a_bad_confusion_matrix_is_refused(matrix, classes, message):
    with pytest.raises(ValueError, match=message):
        plot_confusion_matrix(matrix, classes=classes)


def test_digits_are_drawn_row_by_row_with_their_captions():
    X, y = nn.load_digits(n=12, seed=1)
    fig = plot_digits(X, [str(t) for t in y], columns=5, title="twelve")
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 12 and len(fig.axes) == 15  # 3 rows of 5, 3 blank
    first = drawn[0].images[0].get_array()
    assert [[int(first[r][c]) for c in range(8)] for r in range(8)] == [
        X[0][8 * r: 8 * r + 8] for r in range(8)]
    assert [ax.get_title() for ax in drawn] == [str(t) for t in y]


@pytest.mark.parametrize(
    "images, captions, message",
    [
        ([], None, "no images"),
        ([[0.0] * 5], None, "square number of pixels"),
        ([[0.0] * 4, [0.0] * 9], None, "same square number"),
        ([[0.0] * 4], ["a", "b"], "2 captions for 1 images"),
    ],
)
def test_bad_images_are_refused(images, captions, message):
    with pytest.raises(ValueError, match=message):
        plot_digits(images, captions)


def test_misclassified_shows_only_the_mistakes_and_what_they_were_taken_for():
    X, y = nn.load_digits(n=30, seed=2)
    predicted = [(t + 1) % 10 if i % 4 == 0 else t for i, t in enumerate(y)]
    fig = plot_misclassified(X, y, predicted, title="m")
    captions = [ax.get_title() for ax in fig.axes if ax.images]
    assert captions == [f"taken for {predicted[i]}\nis {y[i]}" for i in range(0, 30, 4)]
    assert fig._suptitle.get_text() == "m: 8 of 30 misclassified"
    limited = plot_misclassified(X, y, predicted, limit=3)
    assert len([ax for ax in limited.axes if ax.images]) == 3
    assert limited._suptitle.get_text() == "misclassified: 8 of 30 misclassified, the first 3 shown"


def test_no_mistakes_is_said_in_words_and_lengths_must_match():
    X, y = nn.load_digits(n=5, seed=3)
    fig = plot_misclassified(X, y, list(y))
    assert not any(ax.images for ax in fig.axes)
    assert fig.axes[0].texts[0].get_text() == "none of the 5 examples was misclassified"
    with pytest.raises(ValueError, match="5 images, 5 labels and 4 predictions"):
        plot_misclassified(X, y, y[:4])
