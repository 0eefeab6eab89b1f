"""`chainrule train --dataset digits`: its own defaults, its two extra pictures, and the
same all-or-nothing publication every other data set gets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from cli_helpers import contents, old_run, run

import nn

pytest.importorskip("matplotlib")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGIT_FILES = ["model.json", "history.json", "loss.svg", "confusion.svg", "misclassified.svg",
               "graph.svg"]
# A small run: 80 digits (60 training, 20 validation), one epoch, a narrow hidden layer.
SMALL = ["--dataset", "digits", "--n", "80", "--epochs", "1", "--hidden", "8", "--no-progress"]


def written(stdout: str) -> list[str]:
    """The file names the summary's last line says were written."""
    line = stdout.strip().splitlines()[-1]
    assert line.startswith("wrote "), stdout
    return line.split(": ", 1)[1].split(", ")


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "out"
    code, stdout, stderr = run(["train", *SMALL, "--out", str(out)])
    return out, code, stdout, stderr


def test_a_digits_run_writes_every_file_it_names(digits_run):
    out, code, stdout, stderr = digits_run
    assert code == 0, stderr
    assert written(stdout) == DIGIT_FILES
    assert sorted(os.listdir(out)) == sorted(DIGIT_FILES)
    for name in DIGIT_FILES:
        if name.endswith(".svg"):
            assert ET.parse(out / name).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    model = nn.load(out / "model.json")
    assert model.nin == 64 and [layer.nout for layer in model.layers] == [8, 10]
    history = json.loads((out / "history.json").read_text())
    assert history["task"] == {"loss": "cross_entropy", "target": "index", "num_classes": 10}
    options = history["config"]["dataset_options"]
    assert options == {"n": 80, "seed": 0, "scale": True}
    assert "digits (n=80, seed=0, scale=True): 60 training, 20 validation examples" in stdout


def test_the_pictures_are_the_validation_digits_labelled_with_what_they_were_taken_for(
    digits_run,
):
    out, code, stdout, _ = digits_run
    assert code == 0
    config = json.loads((out / "history.json").read_text())["config"]
    # the same 20 validation digits the run held out, scored by the saved model
    X, y = nn.get_dataset("digits", **config["dataset_options"])
    _, _, X_val, y_val = nn.train_val_split(X, y, 0.25, seed=0)
    model = nn.load(out / "model.json")
    predicted = nn.predict(model, X_val)
    wrong = sum(p != t for p, t in zip(predicted, y_val, strict=True))
    assert f"{100 * (20 - wrong) / 20:.1f}%" in stdout  # the summary's validation accuracy

    # matplotlib writes text as glyph paths, so the words are checked on the figure drawn
    # again from the same numbers
    from nn.plots import plot_confusion_matrix, plot_misclassified

    matrix = nn.confusion_matrix(predicted, y_val, num_classes=10)
    fig = plot_confusion_matrix(matrix, title="digits: the 20 validation examples")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(map(int, texts)) == sorted(c for row in matrix for c in row if c)
    assert fig.axes[0].get_xlabel().startswith("taken for")
    misses = plot_misclassified(X_val, y_val, predicted, title="digits, validation")
    captions = [ax.get_title() for ax in misses.axes if ax.get_title()]
    expected = [f"taken for {p}\nis {t}" for p, t in zip(predicted, y_val, strict=True)
                if p != t]
    assert captions == expected and len(captions) == wrong
    # and the files the run wrote are exactly these drawings (the SVGs are reproducible)
    for figure, name in ((fig, "confusion.svg"), (misses, "misclassified.svg")):
        with open(out / name, encoding="utf-8") as f:
            assert f.read() == _svg(figure), name


def _svg(fig) -> str:
    import tempfile

    from nn.plots import save_svg

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.svg")
        save_svg(fig, path)
        with open(path, encoding="utf-8") as f:
            return f.read()


def test_digits_defaults_apply_only_to_options_not_given(tmp_path):
    code, stdout, stderr = run(["train", "--dataset", "digits", "--n", "40", "--epochs", "1",
                                "--no-progress", "--out", str(tmp_path / "a")])
    assert code == 0, stderr
    config = json.loads((tmp_path / "a" / "history.json").read_text())["config"]
    assert config["hidden"] == [32] and config["batch_size"] == 32 and config["lr"] == 0.01
    assert "adam lr=0.01; batch size 32; up to 1 epoch," in stdout

    code, stdout, stderr = run(["train", "--dataset", "digits", "--n", "40", "--epochs", "1",
                                "--hidden", "4,4", "--batch-size", "full", "--lr", "0.2",
                                "--no-progress", "--out", str(tmp_path / "b")])
    assert code == 0, stderr
    config = json.loads((tmp_path / "b" / "history.json").read_text())["config"]
    assert config["hidden"] == [4, 4] and config["batch_size"] is None and config["lr"] == 0.2
    # and the other data sets keep theirs
    args = __import__("nn.cli", fromlist=["build_parser"]).build_parser().parse_args(["train"])
    assert (args.n, args.hidden, args.epochs, args.batch_size) == (200, [16, 16], 200, None)


def test_help_says_what_the_digits_change():
    code, help_text, _ = run(["train", "--help"])
    assert code == 0
    text = " ".join(help_text.split())
    for words in ("digits: all 1797", "digits: 32)", "digits: 10", "digits: 0.01",
                  "confusion.svg", "misclassified.svg"):
        assert words in text, words


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--noise", "0.1"], "--noise: data set 'digits' is real data; it has no noise level"),
        (["--n", "1798"], "n must be between 1 and 1797, got 1798"),
    ],
)
def test_bad_digits_options_exit_2_before_training(argv, message, tmp_path):
    code, stdout, stderr = run(["train", "--dataset", "digits", *argv, "--out", str(tmp_path)])
    assert code == 2 and stdout == ""
    assert message in stderr and "Traceback" not in stderr
    assert os.listdir(tmp_path) == []


# --- all or nothing ----------------------------------------------------------------------------


@pytest.mark.parametrize("victim", ["plot_confusion_matrix", "plot_misclassified"])
def test_a_failed_picture_leaves_out_as_it_was(monkeypatch, tmp_path, victim):
    import nn.plots

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(nn.plots, victim, broken)
    out = tmp_path / "out"
    before = old_run(out, ["model.json", "confusion.svg"])
    code, _, stderr = run(["train", *SMALL, "--out", str(out)])
    assert code == 1 and "disk on fire" in stderr
    assert contents(out) == before
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging directory left


def test_a_failed_move_of_the_last_picture_puts_every_file_back(monkeypatch, tmp_path):
    out = tmp_path / "out"
    before = old_run(out, ["model.json", "boundary.svg", "misclassified.svg"])
    real_replace = os.replace

    def replace(src, dst):  # the new misclassified.svg cannot be moved in (disk full)
        new_file = ".backup" not in str(src)
        if new_file and os.path.basename(dst) == "misclassified.svg" and \
                os.path.dirname(dst) == str(out):
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    code, _, stderr = run(["train", *SMALL, "--out", str(out)])
    assert code == 1 and "No space left on device" in stderr
    assert contents(out) == before


def test_runs_in_one_directory_remove_each_others_pictures(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run(["train", "--n", "20", "--epochs", "1", "--hidden", "4",
                                "--no-progress", "--out", str(out)])
    assert code == 0, stderr and "boundary.svg" in os.listdir(out)
    code, stdout, stderr = run(["train", *SMALL, "--out", str(out)])
    assert code == 0, stderr
    assert sorted(os.listdir(out)) == sorted(DIGIT_FILES)  # the moons boundary.svg is gone
    assert "removed boundary.svg" in stdout
    code, stdout, stderr = run(["train", "--n", "20", "--epochs", "1", "--hidden", "4",
                                "--no-progress", "--out", str(out)])
    assert code == 0, stderr
    assert "removed confusion.svg, misclassified.svg" in stdout
    assert "confusion.svg" not in os.listdir(out) and "misclassified.svg" not in os.listdir(out)


BLOCKER = """
import sys

class Missing:
    "Pretend matplotlib is not installed: its import fails."
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
from nn.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_matplotlib_the_run_names_the_pictures_it_skips(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", BLOCKER, "train", *SMALL, "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr
    assert ("note: loss.svg, confusion.svg and misclassified.svg will be skipped: they need "
            'matplotlib (pip install "chainrule[train]")') in proc.stdout
    assert "confusion.svg" not in os.listdir(out) and "model.json" in os.listdir(out)


def test_the_readme_states_the_digits_defaults_the_command_uses():
    from nn.cli.config import DATASET_DEFAULTS

    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = " ".join(f.read().split())
    X, y = nn.load_digits()
    X_train, _, _, _ = nn.train_val_split(X, y, 0.25, seed=0)  # --val-split's default
    defaults = DATASET_DEFAULTS["digits"]
    assert defaults["n"] == len(X) == 1797 and len(X_train) == 1348
    assert "trains on the 1,797 handwritten digits" in readme
    assert "an epoch over 1,348 training digits" in readme
    assert (f"`--hidden {defaults['hidden'][0]}`, `--epochs {defaults['epochs']}`, "
            f"`--batch-size {defaults['batch_size']}` and `--lr {defaults['lr']['adam']}` "
            "with adam or adamw") in readme
    assert defaults["lr"]["adam"] == defaults["lr"]["adamw"]
    code, help_text, _ = run(["train", "--help"])
    assert "its 1348 training digits" in " ".join(help_text.split())
