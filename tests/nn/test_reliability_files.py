"""Model files under stress: interrupted saves, hostile or damaged files, copies.

Every damaged file must give a ValueError whose message names the file and the
fault, quickly, and nothing in a file is ever executed. The one exception is a
file that cannot be opened at all (missing, or not readable): that stays the
OSError ``open()`` gives (FileNotFoundError, PermissionError), which also
names the path. Models also survive ``copy.deepcopy`` and ``pickle``, which is
what multiprocessing needs.
"""

from __future__ import annotations

import builtins
import copy
import io
import json
import multiprocessing
import os
import pickle
import random
import sys
import tracemalloc

import pytest

import nn
from autograd import Value

# --- helpers ------------------------------------------------------------------------------


def hexes(model):
    return [(name, p.data.hex()) for name, p in model.named_parameters()]


def outputs(model, x):
    out = model(x)
    return [v.data.hex() for v in (out if isinstance(out, list) else [out])]


def trained(model, steps=2):
    """Weights with full 53-bit mantissas: a few SGD steps from a random start."""
    xs = [[0.3, -1.1], [1.7, 0.2], [-0.4, 0.9]]
    for _ in range(steps):
        outs = [model(x) for x in xs]
        outs = [o[0] if isinstance(o, list) else o for o in outs]
        loss = nn.mse_loss(outs, [1.0, -1.0, 0.5])
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    return model


@pytest.fixture
def saved(tmp_path):
    random.seed(7)
    path = tmp_path / "model.json"
    trained(nn.MLP(2, [3, 1])).save(path)
    return path


def document(path):
    return json.loads(path.read_text())


def write_doc(path, doc):
    path.write_text(json.dumps(doc))


def load_error(path, *fragments, **kwargs):
    """nn.load(path) must raise ValueError naming the file and each fragment."""
    with pytest.raises(ValueError) as err:
        nn.load(path, **kwargs)
    msg = str(err.value)
    assert str(path) in msg, msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


def peak_bytes_while(action):
    """The most memory ``action()`` held at once: how much of a file it read.

    Bytes, unlike seconds, do not depend on how busy the machine is.
    """
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- 1. an interrupted save never damages the previous file -----------------------------


class _FailingFile(io.TextIOBase):
    """Wraps the temporary file: writes ``budget`` characters, then raises ``exc``."""

    def __init__(self, real, budget, exc):
        self._real, self._budget, self._exc = real, budget, exc

    def write(self, text):
        if len(text) > self._budget:
            self._real.write(text[: self._budget])  # part of this chunk reaches the disk
            self._real.flush()
            self._budget = 0
            raise self._exc
        self._budget -= len(text)
        return self._real.write(text)

    def flush(self):
        self._real.flush()

    def fileno(self):
        return self._real.fileno()

    def close(self):
        self._real.close()

    def __exit__(self, *exc):
        self._real.close()
        return False


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_save_interrupted_mid_write_leaves_the_previous_file_intact(
    saved, monkeypatch, fraction, exc
):
    before = saved.read_bytes()
    budget = int(fraction * len(before))  # characters written before the crash
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        return _FailingFile(real_fdopen(fd, *args, **kwargs), budget, exc)

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(type(exc)):
        trained(nn.MLP(2, [3, 1]), steps=1).save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before  # byte-identical
    assert os.listdir(saved.parent) == [saved.name]  # no temporary file left behind
    assert nn.load(saved).num_parameters() == 13


def test_json_dump_failing_after_some_bytes_leaves_no_trace(saved, monkeypatch):
    before = saved.read_bytes()
    real_dump = json.dump

    def dump(obj, f, **kwargs):
        text = json.dumps(obj, **kwargs)
        f.write(text[: len(text) // 2])
        raise TypeError("simulated serialiser crash")

    monkeypatch.setattr(json, "dump", dump)
    with pytest.raises(TypeError, match="simulated"):
        nn.MLP(2, [3, 1]).save(saved)
    monkeypatch.setattr(json, "dump", real_dump)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_a_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    target = tmp_path / "new.json"
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        os, "fdopen", lambda fd, *a, **k: _FailingFile(real_fdopen(fd, *a, **k), 10, OSError("EIO"))
    )
    with pytest.raises(OSError, match="EIO"):
        nn.MLP(2, [2, 1]).save(target)
    assert os.listdir(tmp_path) == []


# --- 2. damaged, hostile and mismatched files -------------------------------------------


def test_truncated_at_every_tenth(saved):
    text = saved.read_text()
    for k in range(10):
        saved.write_text(text[: len(text) * k // 10])
        load_error(saved, "truncated")
    saved.write_text(text.rstrip()[:-1])  # just the closing brace missing
    load_error(saved, "truncated")


def test_empty_and_blank_files(saved):
    saved.write_bytes(b"")
    load_error(saved, "empty")
    saved.write_text("   \n\n")
    load_error(saved, "empty")


@pytest.mark.parametrize(
    "content",
    [
        b'{"format": "chainrule.nn", "version": 1,, }',
        b"{ not json at all ]",
        b'{"format": "chainrule.nn"} trailing',
        b"\x00\x01\x02\x03",
        bytes(range(256)),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00.",  # a pickle header
        "{\"format\": \"chainrule.nn\" \u2028}".encode("utf-16"),
    ],
    ids=["double-comma", "garbage", "trailing", "nul-bytes", "all-bytes", "png", "pickle", "utf16"],
)
def test_corrupt_and_binary_files(saved, content):
    saved.write_bytes(content)
    msg = load_error(saved)
    assert "JSON" in msg or "UTF-8" in msg or "chainrule model file" in msg


def test_corruption_in_the_middle(saved):
    data = bytearray(saved.read_bytes())
    for i in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        damaged = bytearray(data)
        damaged[i : i + 3] = b"}]{"
        saved.write_bytes(bytes(damaged))
        load_error(saved, "corrupt")


def _param(doc):
    return next(iter(doc["parameters"]))


@pytest.mark.parametrize(
    "change, fragments",
    [
        (lambda d: d.update(parameters={k: str(v) for k, v in d["parameters"].items()}),
         ["must be a real number"]),
        (lambda d: d["parameters"].update({_param(d): None}), ["must be a real number"]),
        (lambda d: d["parameters"].update({_param(d): True}), ["must be a real number"]),
        (lambda d: d["parameters"].update({_param(d): [1.0]}), ["must be a real number"]),
        (lambda d: d.update(parameters=list(d["parameters"].values())), ["'parameters'"]),
        (lambda d: d.update(parameters="weights"), ["'parameters'"]),
        (lambda d: d["model"].update(config=[2, [3, 1]]), ["config", "dict"]),
        (lambda d: d["model"].update(config="nin=2"), ["config", "dict"]),
        (lambda d: d.update(model=["MLP"]), ["'type'"]),
        (lambda d: d.update(model="MLP"), ["'type'"]),
        (lambda d: d["model"].update(type=7), ["'type'"]),
        (lambda d: d["model"]["config"].update(nin="2"), ["nin"]),
        (lambda d: d["model"]["config"].update(nin=2.0), ["nin"]),
        (lambda d: d["model"]["config"].update(nouts={"3": 1}), ["nouts"]),
        (lambda d: d["model"]["config"].update(activation=3), ["activation"]),
        (lambda d: d["model"]["config"].update(rng="random"), ["rng"]),
        (lambda d: d["model"]["config"].update(rng=5), ["rng"]),
        (lambda d: d["model"]["config"].update(init={"name": "uniform"}), ["initialiser"]),
        (lambda d: d.update(training="yes"), ["'training'"]),
        (lambda d: d.update(version="1"), ["version"]),
        (lambda d: d.update(version=1.0), ["version"]),
        (lambda d: d.update(version=None), ["version"]),
        (lambda d: d.update(num_parameters="13"), ["num_parameters"]),
        (lambda d: d.update(num_parameters=True), ["num_parameters"]),
    ],
)
def test_wrong_types(saved, change, fragments):
    doc = document(saved)
    change(doc)
    write_doc(saved, doc)
    load_error(saved, *fragments)


@pytest.mark.parametrize("doc", [[], [1, 2], 3, "chainrule.nn", None, True, {}])
def test_a_document_that_is_not_an_object(saved, doc):
    write_doc(saved, doc)
    load_error(saved, "not a chainrule model file")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_tokens_are_refused(saved, token):
    text = saved.read_text()
    doc = document(saved)
    name = _param(doc)
    value = json.dumps(doc["parameters"][name])
    saved.write_text(text.replace(f'"{name}": {value}', f'"{name}": {token}', 1))
    assert token in saved.read_text()
    load_error(saved, token)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1" + "0" * 400, "-" + "9" * 400])
def test_numbers_too_big_for_a_float_are_refused(saved, literal):
    doc = document(saved)
    name = _param(doc)
    doc["parameters"][name] = 12345.5
    saved.write_text(json.dumps(doc).replace("12345.5", literal))
    load_error(saved)


def test_out_of_range_float_in_the_config_is_refused(tmp_path):
    path = tmp_path / "rbf.json"
    nn.RBF(2, gamma=0.5).save(path)
    path.write_text(path.read_text().replace('"gamma": 0.5', '"gamma": 1e999'))
    load_error(path)


def test_architecture_and_weights_that_disagree(saved):
    original = document(saved)
    name = _param(original)

    doc = copy.deepcopy(original)
    del doc["parameters"][name]
    write_doc(saved, doc)
    load_error(saved, "missing keys", name)

    doc = copy.deepcopy(original)
    doc["parameters"]["layers.9.neurons.0.b"] = 0.5
    write_doc(saved, doc)
    load_error(saved, "unexpected keys", "layers.9.neurons.0.b")

    doc = copy.deepcopy(original)
    doc["num_parameters"] = 12
    write_doc(saved, doc)
    load_error(saved, "12", "13")

    doc = copy.deepcopy(original)
    doc["model"]["config"]["nouts"] = [4, 1]
    write_doc(saved, doc)
    load_error(saved, "parameters")

    doc = copy.deepcopy(original)
    doc["model"]["config"]["bias"] = False
    write_doc(saved, doc)
    load_error(saved, "unexpected keys")


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "MLP", "config": {"nin": 10**12, "nouts": [1]}},
        {"type": "MLP", "config": {"nin": 2, "nouts": [10**9, 10**9]}},
        {"type": "MLP", "config": {"nin": 2, "nouts": [1] * 100000}},
        {"type": "Layer", "config": {"nin": 3, "nout": 10**10}},
        {"type": "Neuron", "config": {"nin": 10**15}},
        {"type": "Maxout", "config": {"nin": 2, "nout": 2, "k": 10**9}},
        {"type": "RBF", "config": {"nin": 10**10}},
        {"type": "PReLU", "config": {"num_parameters": 10**10}},
        {"type": "MLP", "config": {"nin": 2, "nouts": [1],
                                   "activation": {"name": "prelu", "num_parameters": 10**9}}},
        {"type": "Sequential", "config": {"layers": [
            {"type": "Layer", "config": {"nin": 2, "nout": 2}},
            {"type": "Layer", "config": {"nin": 2, "nout": 10**11}},
        ]}},
    ],
)
def test_a_huge_architecture_is_refused_before_it_is_built(saved, spec):
    """A few bytes can describe 10**12 weights; building them would exhaust memory."""
    doc = document(saved)
    doc["model"] = spec
    write_doc(saved, doc)
    load_error(saved, "parameters")


def test_a_huge_file_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:  # 50 MB: a valid-looking start, then padding
        f.write(b'{"format": "chainrule.nn", "version": 1, "pad": "')
        f.write(b"x" * (50 * 2**20))
        f.write(b'"}')
    msgs = []
    peak = peak_bytes_while(lambda: msgs.append(load_error(path, "too large", "max_bytes")))
    assert peak < 2**20, f"refusing a 50 MB file held {peak} bytes: it was read"
    assert "MB" in msgs[0]


def test_the_size_limit_is_configurable(saved):
    size = saved.stat().st_size
    load_error(saved, "too large", max_bytes=size - 1)
    assert hexes(nn.load(saved, max_bytes=size)) == hexes(nn.load(saved))
    for bad in (0, -5, 1.5, "64MB", True):
        with pytest.raises((TypeError, ValueError), match="max_bytes"):
            nn.load(saved, max_bytes=bad)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_stream_is_refused_not_read_forever():
    def refuse():
        with pytest.raises(ValueError, match="/dev/zero"):
            nn.load("/dev/zero", max_bytes=2**20)

    peak = peak_bytes_while(refuse)  # it returned, and read at most about max_bytes
    assert peak < 4 * 2**20, f"reading /dev/zero held {peak} bytes"


def test_future_version_wrong_format_and_unknown_type(saved):
    original = document(saved)
    write_doc(saved, {**original, "version": 99})
    load_error(saved, "version 99", "newer")
    write_doc(saved, {**original, "format": "pytorch.state_dict"})
    load_error(saved, "pytorch.state_dict", "chainrule.nn")
    doc = {k: v for k, v in original.items() if k != "format"}
    write_doc(saved, doc)
    load_error(saved, "not a chainrule model file")
    write_doc(saved, {**original, "model": {"type": "ResNet50", "config": {}}})
    load_error(saved, "unknown module type 'ResNet50'")


def test_paths_that_are_not_files(tmp_path):
    load_error(tmp_path, "directory")
    missing = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError) as err:  # documented: open()'s own error
        nn.load(missing)
    assert str(missing) in str(err.value)


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_json_is_refused(saved, depth):
    saved.write_text("[" * (20 * depth) + "]" * (20 * depth))
    load_error(saved)
    # Sequentials inside Sequentials: the JSON parses (or not), the build must not crash.
    spec = (
        '{"type": "Sequential", "config": {"layers": [' * depth
        + '{"type": "Neuron", "config": {"nin": 1}}'
        + "]}}" * depth
    )
    text = json.dumps(
        {"format": "chainrule.nn", "version": 1, "model": "SPEC", "parameters": {"w": 0.5}}
    )
    saved.write_text(text.replace('"SPEC"', spec))
    load_error(saved)


# --- nothing is ever executed from a file ---------------------------------------------------


@pytest.mark.parametrize(
    "type_name",
    ["os.system", "__import__", "builtins.eval", "builtins.exec", "subprocess.Popen",
     "posix.system", "nn.module.Module", "Module", "object", "type", "pickle.loads",
     "nn.serialization.load", "autograd.value.Value", "Value", "History"],
)
def test_a_file_naming_code_is_refused(saved, tmp_path, type_name, monkeypatch):
    canary = tmp_path / "pwned"
    called = []
    monkeypatch.setattr(os, "system", lambda *a, **k: called.append(a) or 0)
    doc = document(saved)
    doc["model"] = {"type": type_name, "config": {"command": f"touch {canary}"}}
    write_doc(saved, doc)
    load_error(saved, "unknown module type", repr(type_name))
    assert not called and not canary.exists()


def test_load_never_unpickles_evaluates_or_imports(saved, monkeypatch):
    def forbidden(name):
        def trap(*args, **kwargs):
            raise AssertionError(f"nn.load called {name}")
        return trap

    for module, name in [(pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"),
                         (builtins, "eval"), (builtins, "exec"), (builtins, "compile")]:
        monkeypatch.setattr(module, name, forbidden(f"{module.__name__}.{name}"))
    real_import = builtins.__import__
    imported = []

    def watch(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name not in sys.modules:
            imported.append(name)
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", watch)
    loaded = nn.load(saved)
    doc = document(saved)
    doc["model"]["type"] = "os.system"
    write_doc(saved, doc)
    with pytest.raises(ValueError):
        nn.load(saved)
    monkeypatch.undo()
    assert loaded.num_parameters() == 13
    assert imported == []


# --- 3. deepcopy, pickle and multiprocessing ---------------------------------------------------

MODELS = {
    "mlp": lambda: nn.MLP(2, [4, 3, 1]),
    "mlp-tanh-2out": lambda: nn.MLP(2, [3, 2], activation="tanh"),
    "mlp-leaky-dict": lambda: nn.MLP(
        2, [3, 1], activation={"name": "leaky_relu", "negative_slope": 0.2},
        output_activation={"name": "elu", "alpha": 0.5}),
    "mlp-hardtanh-dict": lambda: nn.MLP(2, [3, 1], activation={"name": "hardtanh", "min_val": -2}),
    "mlp-prelu": lambda: nn.MLP(2, [3, 1], activation="prelu"),
    "mlp-rrelu-eval": lambda: nn.MLP(2, [3, 1], activation="rrelu").eval(),
    "mlp-rrelu-own-rng": lambda: nn.MLP(
        2, [3, 1], activation={"name": "rrelu", "lower": 0.1, "upper": 0.2}).eval(),
    "layer": lambda: nn.Layer(2, 3, activation="sigmoid"),
    "neuron": lambda: nn.Neuron(2, activation="softplus"),
    "perceptron": lambda: nn.Perceptron([0.5, -0.25], 0.125, activation="tanh"),
    "maxout": lambda: nn.Maxout(2, 2, k=3),
    "rbf": lambda: nn.RBF(2, gamma=0.7),
    "sequential": lambda: nn.Sequential(
        nn.Layer(2, 3, activation="linear"), nn.PReLU(3), nn.Maxout(3, 2, k=2), nn.RBF(2, 0.5)),
    "xor-relu": nn.xor_relu_network,
}

POINTS = [[0.5, -0.25], [1.5, 2.0], [-3.0, 0.125]]


def _with_grads(model):
    """Give every parameter a gradient and a label, so copies must carry them."""
    for i, (name, p) in enumerate(model.named_parameters()):
        p.grad = 0.5 + i
        p.label = name
    return model


def _independent(original, copied):
    a, b = original.parameters(), copied.parameters()
    assert len(a) == len(b)
    assert not {id(p) for p in a} & {id(p) for p in b}
    before = hexes(original)
    for p in b:
        p.data += 1.0
        p.grad = -7.0
    assert hexes(original) == before
    assert all(p.grad != -7.0 for p in a)


@pytest.mark.parametrize("kind", sorted(MODELS))
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_are_exact_and_independent(kind, how):
    random.seed(3)
    model = _with_grads(trained(MODELS[kind]()))
    if how == "deepcopy":
        twin = copy.deepcopy(model)
    else:
        twin = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(twin) is type(model)
    assert hexes(twin) == hexes(model)
    assert [(p.grad, p.label) for p in twin.parameters()] == [
        (p.grad, p.label) for p in model.parameters()
    ]
    assert [m.training for m in twin.modules()] == [m.training for m in model.modules()]
    for x in POINTS:
        assert outputs(twin, x) == outputs(model, x)
    _independent(model, twin)


def test_pickled_values_keep_data_grad_and_label():
    for data in (0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, float("inf")):
        v = Value(data, label="w_x")
        v.grad = -2.5
        w = pickle.loads(pickle.dumps(v))
        assert (w.data.hex(), w.grad, w.label, type(w)) == (v.data.hex(), -2.5, "w_x", Value)
        assert w.is_leaf and w is not v


def test_tied_parameters_stay_tied_in_a_copy():
    shared = nn.Layer(2, 2, activation="tanh")
    model = nn.Sequential(shared, shared)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin.layers[0] is twin.layers[1]
        assert twin.num_parameters() == model.num_parameters() == 6


def test_model_and_optimiser_pickled_together_resume_identically():
    random.seed(11)
    model = nn.MLP(2, [4, 1], activation="tanh")
    opt = nn.Adam(model.parameters(), lr=0.05)

    def step(m, o):
        loss = nn.mse_loss([m(x) for x in POINTS], [1.0, -1.0, 0.5])
        o.zero_grad()
        loss.backward()
        o.step()
        return loss.data

    for _ in range(3):
        step(model, opt)
    model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    assert all(a is b for a, b in zip(opt2.params, model2.parameters(), strict=True))
    for _ in range(3):
        assert step(model, opt) == step(model2, opt2)
    assert hexes(model) == hexes(model2)


def test_a_computed_value_pickles_like_it_deep_copies():
    """A worker may return model(x) itself, not just its .data."""
    x = Value(2.0, label="x")
    y = (x * 3.0 + 1.0).tanh()
    for z in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert z.data == y.data and z.op == "tanh"
        z.backward()
        (leaf,) = [p for p in z.parents[0].parents[0].parents if p.label == "x"]
        assert leaf.grad == pytest.approx(3.0 * (1.0 - y.data**2))
        assert x.grad == 0.0  # the original graph is untouched


def _evaluate_in_worker(job):
    """Runs in a spawned process: unpickle the model and score one point."""
    blob, point = job
    model = pickle.loads(blob)
    out = model(point)
    return [v.data for v in (out if isinstance(out, list) else [out])]


def test_a_spawned_process_pool_evaluates_a_pickled_model():
    random.seed(5)
    model = trained(nn.MLP(2, [4, 2], activation={"name": "leaky_relu", "negative_slope": 0.1}))
    blob = pickle.dumps(model)
    expected = [[v.data for v in model(x)] for x in POINTS]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        got = pool.map(_evaluate_in_worker, [(blob, x) for x in POINTS])
    assert got == expected
