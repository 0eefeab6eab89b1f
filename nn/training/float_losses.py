"""Two of fit's losses on plain floats, with every output's gradient, for the compiled step.

``cross_entropy`` and ``binary_cross_entropy_with_logits`` on a batch's outputs
make many small nodes; here the same op table rules run on floats, in the
order the engine's backward would visit those nodes, so the numbers are the
eager ones bit for bit and no graph is built.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd import ops

__all__ = ["cross_entropy_floats", "logistic_floats"]


class _Slot:
    """A number and its gradient, as the op table's n-ary rules read and add to them."""

    __slots__ = ("data", "grad")

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def cross_entropy_floats(leaves: list, labels: Sequence) -> tuple[float, list] | None:
    """``cross_entropy(outputs, labels)`` (the batch mean) and every output's gradient,
    on floats: the nodes ``nn.losses.cross_entropy`` makes, each by its op table rule,
    visited in the order the engine's backward visits them (the loss of example 0
    first; in an example the log-sum-exp, the shifted logits with the label's last,
    then the max). None (the eager loss decides) if a rule raises."""
    sub, sub_vjp = ops.SUB.forward, ops.SUB.vjp
    lse_f, lse_vjp, max_f, max_vjp = (
        ops.LOGSUMEXP.forward, ops.LOGSUMEXP.vjp, ops.MAX.forward, ops.MAX.vjp
    )
    try:
        saved = []
        for vs, t in zip(leaves, labels, strict=True):
            if t.__class__ is not int or not 0 <= t < len(vs):
                return None  # the eager loss says what is wrong with it
            zs = [v.data for v in vs]
            m = max_f(zs)
            ds = [sub(z, m) for z in zs]
            lse = lse_f(ds)
            saved.append((zs, t, m, ds, lse, sub(lse, ds[t])))
        n = float(len(saved))
        total = ops.SUM.forward([s[5] for s in saved])
        value = ops.DIV.forward(total, n)
        g_total = 0.0 + ops.DIV.vjp(1.0, total, n, value)[0]
        g_loss = 0.0 + g_total
        seeds = []
        for zs, t, m, ds, lse, loss in saved:
            g_lse, g_dt = sub_vjp(g_loss, lse, ds[t], loss)
            d_slots = [_Slot(d) for d in ds]
            d_slots[t].grad += g_dt
            lse_vjp(0.0 + g_lse, d_slots, lse)
            z_slots = [_Slot(z) for z in zs]
            m_slot = _Slot(m)
            for j in [*range(t), *range(t + 1, len(zs)), t]:
                gz, gm = sub_vjp(d_slots[j].grad, zs[j], m, ds[j])
                z_slots[j].grad += gz
                m_slot.grad += gm
            max_vjp(m_slot.grad, z_slots, m)
            seeds.append([z.grad for z in z_slots])
    except (ArithmeticError, ValueError):
        return None
    return value, seeds


def logistic_floats(leaves: list, labels: Sequence) -> tuple[float, list] | None:
    """``binary_cross_entropy_with_logits`` of one logit per example against labels 0
    and 1 (the batch mean) and each logit's gradient, on floats: the terms
    ``softplus(-z)`` (label 1) and ``softplus(z)`` (label 0) by their op table rules,
    in the engine's order. None (the eager loss decides) for any other label, or if a
    rule raises."""
    softplus, sp_vjp, neg, neg_vjp = (
        ops.SOFTPLUS.forward, ops.SOFTPLUS.vjp, ops.NEG.forward, ops.NEG.vjp
    )
    try:
        saved = []
        for vs, t in zip(leaves, labels, strict=True):
            if t.__class__ is not int or not (t == 0 or t == 1):
                return None
            z = vs[0].data
            if t == 1:
                nz = neg(z)
                saved.append((z, nz, softplus(nz)))
            else:
                saved.append((z, None, softplus(z)))
        n = float(len(saved))
        total = ops.SUM.forward([s[2] for s in saved])
        value = ops.DIV.forward(total, n)
        g_term = 0.0 + (0.0 + ops.DIV.vjp(1.0, total, n, value)[0])
        seeds = []
        for z, nz, term in saved:
            if nz is None:
                seeds.append([0.0 + sp_vjp(g_term, z, term)])
            else:
                g_nz = 0.0 + sp_vjp(g_term, nz, term)
                seeds.append([0.0 + neg_vjp(g_nz, z, nz)])
    except (ArithmeticError, ValueError):
        return None
    return value, seeds
