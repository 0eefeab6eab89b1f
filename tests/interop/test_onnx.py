"""nn.to_onnx: a Gemm-and-activation graph that onnxruntime runs with our outputs.

Needs onnx and onnxruntime (in the dev extra), not torch."""

from __future__ import annotations

import os
import random
import stat

import pytest
from interop_helpers import ACTIVATIONS, act_id, batch, our_outputs, randomize

import nn

onnx = pytest.importorskip("onnx", reason='onnx is not installed: pip install "chainrule[interop]"')
ort = pytest.importorskip(
    "onnxruntime", reason='onnxruntime is not installed: pip install "chainrule[interop]"'
)
np = pytest.importorskip("numpy")  # installed with onnx

TOLERANCE = {"float64": 1e-12, "float32": 2e-5}


def _run(path, X, dtype):
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"input": np.array(X, dtype=dtype)})
    assert out.dtype == np.dtype(dtype)
    return out.tolist()


def _assert_close(ours, theirs, dtype):
    tol = TOLERANCE[dtype]
    assert np.shape(ours) == np.shape(theirs)
    for r, s in zip(ours, theirs, strict=True):
        for a, b in zip(r, s, strict=True):
            assert abs(a - b) <= tol * max(1.0, abs(a)), (a, b, dtype)


def _mlp(activation, nouts=(5, 4, 2), bias=True):
    model = nn.MLP(3, list(nouts), activation=activation, output_activation=activation,
                   bias=bias, rng=random.Random(0))
    return randomize(model).eval()


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=act_id)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_onnxruntime_gives_our_outputs_for_every_activation(tmp_path, activation, dtype):
    model = _mlp(activation)
    path = tmp_path / "model.onnx"
    nn.to_onnx(model, path, dtype=dtype)
    X = batch(3, n=11, scale=3.0)
    _assert_close(our_outputs(model, X), _run(path, X, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_inputs_stay_finite_and_agree(tmp_path, dtype):
    # elu and softplus at +-800: e^x must not overflow on either side
    for activation in ["softplus", "elu", "sigmoid", "tanh"]:
        model = nn.MLP(1, [1], output_activation=activation)
        model.layers[0].neurons[0].w[0].data = 1.0
        path = tmp_path / f"{activation}.onnx"
        nn.to_onnx(model, path, dtype=dtype)
        X = [[-800.0], [-40.0], [-1e-3], [0.0], [1e-3], [40.0], [800.0]]
        out = _run(path, X, dtype)
        assert all(np.isfinite(out).ravel()), (activation, out)
        _assert_close(our_outputs(model, X), out, dtype)


def test_graph_nodes_attributes_and_names(tmp_path):
    model = nn.Sequential(
        nn.Layer(3, 4, {"name": "leaky_relu", "negative_slope": 0.25}),
        nn.Layer(4, 4, {"name": "elu", "alpha": 0.5}),
        nn.Layer(4, 4, {"name": "hardtanh", "min_val": -0.5, "max_val": 2.0}),
        nn.Layer(4, 3, "softplus"),
        nn.Layer(3, 3, "relu"),
        nn.Layer(3, 3, "tanh"),
        nn.Layer(3, 2, "prelu"),
        nn.Layer(2, 2, "sigmoid", bias=False),
        nn.Layer(2, 1, "linear"),
    )
    proto = nn.to_onnx(model, tmp_path / "m.onnx")
    g = proto.graph
    assert [n.op_type for n in g.node] == [
        "Gemm", "LeakyRelu", "Gemm", "Elu", "Gemm", "Clip", "Gemm", "Softplus", "Gemm", "Relu",
        "Gemm", "Tanh", "Gemm", "PRelu", "Gemm", "Sigmoid", "Gemm",
    ]
    attrs = {n.op_type: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
             for n in g.node}
    assert attrs["LeakyRelu"]["alpha"] == pytest.approx(0.25)
    assert attrs["Elu"]["alpha"] == pytest.approx(0.5)
    assert attrs["Gemm"] == {"transB": 1}
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    assert inits["5.min_val"] == -0.5 and inits["5.max_val"] == 2.0
    assert inits["0.weight"].shape == (4, 3) and inits["0.bias"].shape == (4,)
    assert "14.bias" not in inits and [len(n.input) for n in g.node][14] == 2  # bias=False
    ours = np.array([[w.data for w in n.w] for n in model.layers[0].neurons], dtype=np.float32)
    assert inits["0.weight"].dtype == np.float32 and (inits["0.weight"] == ours).all()
    assert g.node[-1].output[0] == "output"
    (inp,) = g.input
    (out,) = g.output
    assert inp.name == "input" and out.name == "output"
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 3]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 1]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert proto.opset_import[0].version == 17
    assert onnx.load(tmp_path / "m.onnx") == proto  # the file holds what was returned
    X = batch(3, n=5)
    _assert_close(our_outputs(model, X), _run(tmp_path / "m.onnx", X, "float32"), "float32")


def test_float64_writes_exact_slopes_and_elementary_elu_and_softplus(tmp_path):
    model = nn.Sequential(
        nn.Layer(2, 3, {"name": "leaky_relu", "negative_slope": 0.1}),
        nn.Layer(3, 3, "elu"),
        nn.Layer(3, 1, "softplus"),
    )
    proto = nn.to_onnx(model, tmp_path / "m.onnx", dtype="float64")
    ops = [n.op_type for n in proto.graph.node]
    # onnxruntime has no double Elu/Softplus, and attributes are float32
    assert "Elu" not in ops and "Softplus" not in ops and "LeakyRelu" not in ops
    slope = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}["1.slope"]
    assert slope.dtype == np.float64 and slope.tolist() == [0.1]
    X = batch(2, n=8, scale=4.0)
    _assert_close(our_outputs(model, X), _run(tmp_path / "m.onnx", X, "float64"), "float64")


def test_dynamic_batch_size(tmp_path):
    model = _mlp("tanh")
    path = tmp_path / "m.onnx"
    nn.to_onnx(model, path, dtype="float64")
    for n in (1, 2, 17):
        X = batch(3, n=n, seed=n)
        _assert_close(our_outputs(model, X), _run(path, X, "float64"), "float64")


def test_sequential_with_standalone_prelu_neuron_and_perceptron(tmp_path):
    model = nn.Sequential(
        nn.PReLU(3),
        nn.Layer(3, 4, "tanh", rng=random.Random(1)),
        nn.PReLU(),
        nn.Layer(4, 2, "linear", bias=False, rng=random.Random(2)),
        nn.RReLU(),
        nn.Neuron(2, "sigmoid", rng=random.Random(3)),
        nn.Perceptron([1.5], -0.5, activation="tanh"),
    )
    randomize(model, seed=4).eval()
    for dtype in ("float64", "float32"):
        path = tmp_path / f"{dtype}.onnx"
        proto = nn.to_onnx(model, path, dtype=dtype)
        dims = proto.graph.input[0].type.tensor_type.shape.dim
        assert dims[1].dim_value == 3
        X = batch(3, n=6)
        _assert_close(our_outputs(model, X), _run(path, X, dtype), dtype)


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    nn.to_onnx(_mlp("relu"), path)
    os.chmod(path, 0o640)
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        nn.to_onnx(_mlp("tanh"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]
    # a model that cannot be exported never touches the file either
    with pytest.raises(ValueError, match="'sign'"):
        nn.to_onnx(nn.MLP(3, [2], output_activation="sign"), path)
    assert path.read_bytes() == before
    # a successful overwrite keeps the file's permissions
    nn.to_onnx(_mlp("tanh"), path)
    assert path.read_bytes() != before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_bad_dtype_and_bad_model(tmp_path):
    with pytest.raises(ValueError, match="nn.to_onnx: dtype must be 'float32' or 'float64', "
                       "got 'float16'"):
        nn.to_onnx(_mlp("relu"), tmp_path / "m.onnx", dtype="float16")
    with pytest.raises(ValueError, match=r"nn.to_onnx: cannot export Maxout"):
        nn.to_onnx(nn.Maxout(2, 2), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="nn.to_onnx: expected an nn model"):
        nn.to_onnx([1, 2], tmp_path / "m.onnx")
    assert not any(tmp_path.iterdir())
