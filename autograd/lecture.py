"""The lecture's worked example, f = (w_x x + w_y y) w_q + w_z z at (x, y, z) = (-3, 7, -5).

Run ``python -m autograd.lecture`` to see backprop's gradients next to the
chain rule worked by hand.
"""

from __future__ import annotations

from .value import Value

# The lecture fixes the inputs; the weights are ours: all 1, except w_q = 2.
INPUTS = {"x": -3.0, "y": 7.0, "z": -5.0}
WEIGHTS = {"w_x": 1.0, "w_y": 1.0, "w_q": 2.0, "w_z": 1.0}


def build(weights: dict[str, float] | None = None) -> tuple[Value, dict[str, Value]]:
    """Build f and return it with every named node (inputs, weights, q, f)."""
    w = {name: Value(v, label=name) for name, v in (weights or WEIGHTS).items()}
    x, y, z = (Value(v, label=name) for name, v in INPUTS.items())
    q = w["w_x"] * x + w["w_y"] * y
    q.label = "q"
    f = q * w["w_q"] + w["w_z"] * z
    f.label = "f"
    return f, {**w, "x": x, "y": y, "z": z, "q": q, "f": f}


def hand_gradients(nodes: dict[str, Value]) -> dict[str, tuple[str, float]]:
    """The chain rule by hand: df/dw for each weight, with the formula used."""
    x, y, z = nodes["x"].data, nodes["y"].data, nodes["z"].data
    wq, q = nodes["w_q"].data, nodes["q"].data
    return {
        "w_x": ("df/dq * dq/dw_x = w_q * x", wq * x),
        "w_y": ("df/dq * dq/dw_y = w_q * y", wq * y),
        "w_q": ("q = w_x x + w_y y", q),
        "w_z": ("z", z),
    }


def report() -> str:
    f, nodes = build()
    f.backward()
    lines = [
        "f = (w_x x + w_y y) w_q + w_z z  at (x, y, z) = (-3, 7, -5)",
        "weights: " + ", ".join(f"{k} = {v:g}" for k, v in WEIGHTS.items()),
        f"q = {nodes['q'].data:g}, f = {f.data:g}",
        "",
        f"{'weight':<6} {'backward()':>11} {'by hand':>9}   chain rule",
    ]
    for name, (formula, expected) in hand_gradients(nodes).items():
        got = nodes[name].grad
        mark = "ok" if got == expected else "MISMATCH"
        lines.append(f"{name:<6} {got:>11g} {expected:>9g}   {formula}  [{mark}]")
    lines.append("")
    lines.append("To decrease f, step each weight against its gradient: w <- w - lr * df/dw.")
    return "\n".join(lines)


def main() -> None:
    print(report())


if __name__ == "__main__":
    main()
