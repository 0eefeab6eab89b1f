"""The stepper's HTML page: the drawing (twice where a narrow window wants it top to
bottom), the steps as JSON, and the style and script of ``page/``, all inline so the
page works offline from a ``file://`` URL."""

from __future__ import annotations

import html
import json
import re
from importlib import resources

from ..value import Value
from .graph import build
from .render import render_svg
from .steps import Plan
from .style import NOT_REACHED_COLOR, DrawOptions, GradScale, is_dark
from .summary import summary_step


def stepper_page(root: Value, options: DrawOptions, renderer: str, params) -> str:
    plan = Plan(root, options, params)
    plan.steps.append(summary_step(plan))  # the last step
    layouts = [options.rankdir]
    if options.rankdir in ("LR", "RL"):
        layouts.append("TB")  # for narrow windows: a phone, a projector at 150%
    svgs = []
    for k, rankdir in enumerate(layouts):
        graph = build(
            root, options.but(rankdir=rankdir, color_by="role",
                              legend=options.legend and options.color_by == "role"),
            names=plan.names, grads=plan.grads, order=plan.order,
        )
        svg = _inline_svg(render_svg(graph.source, renderer))
        prefix = f"{rankdir}-" if k else ""
        if k:
            svg = svg.replace(' id="', f' id="{prefix}')  # ids stay unique on the page
        svgs.append(
            f'<div class="layout" data-rankdir="{rankdir}" data-prefix="{prefix}"'
            f'{" hidden" if k else ""}>\n{svg}\n</div>'
        )
    scale = None
    if options.color_by != "role":
        scale = GradScale(
            [plan.grads[v] for v in plan.drawn], options.grad_range,
            options.color_by == "grad_sign",
        )
    number = plan.number
    nodes = []
    for v in plan.drawn:
        fill = scale.color(plan.grads[v]) if scale is not None else None
        nodes.append({
            "id": plan.ids[v],
            "fstep": plan.fstep.get(v, 0),
            "bstep": plan.bstep.get(v, len(plan.steps) - 1),
            "data_text": number(v.data),
            "grad_text": number(plan.grads[v]),
            "fill": fill,
            "dark": bool(fill and is_dark(fill)),
        })
    legend_html = ""
    if scale is not None and options.show_legend:
        legend_html = _legend_html(scale)
    data = {
        "root": plan.out,
        "color_by": options.color_by,
        "not_reached_color": NOT_REACHED_COLOR,
        "nodes": nodes,
        "steps": plan.steps,
    }
    heading = f"Backprop, one step at a time: {plan.out} = {number(root.data)}"
    replacements = {
        "__TITLE__": html.escape(f"Backprop, one step at a time: {plan.out}"),
        "__HEADING__": html.escape(heading),
        "__N__": str(len(plan.steps) - 1),
        "__COLOR_BY__": options.color_by,
        "__LEGEND__": legend_html,
        "__STYLE__": _asset("stepper.css"),
        "__SVG__": "\n".join(svgs),
        "__DATA__": _script_json(data),
        "__SCRIPT__": _asset("stepper.js"),
    }
    page = _asset("stepper.html")
    # One pass, so text put in by one marker is never read as another marker.
    return re.sub(r"__[A-Z_]+__", lambda m: replacements.get(m.group(0), m.group(0)), page)


def _legend_html(scale: GradScale) -> str:
    items = "".join(
        f'<span class="swatch" style="background:{html.escape(fill)}"></span>'
        f'<span class="swatch-text">{html.escape(text)}</span>'
        for text, fill in [*scale.legend(), ("not reached yet", NOT_REACHED_COLOR)]
    )
    return f'<div class="legend"><span>{html.escape(scale.title)}:</span> {items}</div>'


def _asset(name: str) -> str:
    """A file of the page (``page/``), shipped as package data."""
    return resources.files(__package__).joinpath("page", name).read_text(encoding="utf-8")


def _inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML declaration or DOCTYPE), to sit inside HTML."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("step_through: the renderer returned no <svg> element")
    return svg[start:].strip()


def _script_json(data: dict) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' can end the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def fitting_height(page: str) -> int:
    """Pixels for the Jupyter iframe: the drawing's height plus the controls, capped."""
    match = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', page)
    drawing = float(match.group(1)) * 4 / 3 if match else 400.0
    return int(min(900, max(360, drawing + 300)))
