"""The stepper's last step: every parameter's gradient, largest first, and which
change of one of them lowers the output most."""

from __future__ import annotations

import math

from .names import d_of
from .steps import Plan, json_number

SUMMARY_LINES = 8  # the summary lists the largest gradients; the drawing shows them all


def summary_step(plan: Plan) -> dict:
    """The summary step of a ``Plan``: its words, formula and gradients."""
    out, d_out = plan.out, f"d{d_of(plan.out)}"
    if plan.params is not None:
        params = [p for p in plan.params if p in plan.grads]
        what = "parameter"
    else:
        params = [v for v in plan.order if v.is_leaf and not v.is_constant]
        what = "leaf (parameter or input)"
    ranked = sorted(params, key=lambda p: -abs(plan.grads[p]) if math.isfinite(
        plan.grads[p]) else -math.inf)
    lines = []
    for p in ranked[:SUMMARY_LINES]:
        g = plan.grads[p]
        if g > 0:
            advice = f"decrease {plan.name(p)} to lower {out}"
        elif g < 0:
            advice = f"increase {plan.name(p)} to lower {out}"
        else:
            advice = f"a small change leaves {out} as it is"
        lines.append(f"{d_out}/d{d_of(plan.name(p))} = {plan.number(g)}   ({advice})")
    if len(ranked) > SUMMARY_LINES:
        lines.append(f"... and {len(ranked) - SUMMARY_LINES} smaller ones (on the drawing)")
    words = (
        f"Summary: the gradient of {out} with respect to each {what}, largest first. "
        f"Changing one of them by a small eps changes {out} by about gradient * eps."
    )
    best = next((p for p in ranked if plan.grads[p] != 0 and math.isfinite(
        plan.grads[p])), None)
    if best is not None:
        g = plan.grads[best]
        move = "decrease" if g > 0 else "increase"
        words += (
            f" The change that lowers {out} most is to {move} {plan.name(best)} "
            f"({d_out}/d{d_of(plan.name(best))} = {plan.number(g)}: {out} drops by "
            f"about {plan.number(abs(g))} eps)"
        )
        other = next((p for p in ranked if plan.grads[p] != 0 and math.isfinite(
            plan.grads[p]) and (plan.grads[p] > 0) != (g > 0)), None)
        if other is not None:
            go = plan.grads[other]
            words += (
                f", more than to {'decrease' if go > 0 else 'increase'} "
                f"{plan.name(other)} (about {plan.number(abs(go))} eps)"
            )
        words += "."
    return {
        "kind": "summary", "node": plan.ids.get(best) if best is not None else None,
        "name": "summary", "words": words, "formula": "\n".join(lines),
        "gradients": {plan.name(p): json_number(plan.grads[p]) for p in ranked},
        "best": plan.name(best) if best is not None else None,
        "feeds": plan.feeds([p for p in ranked if p is not best], [], []),
    }
