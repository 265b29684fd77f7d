"""The interface matrix as a server-side SVG heatmap: suppliers down, customers across, coloured by
overall mean on the 1–5 scale. A cell under the threshold is hatched grey with no number. Every cell
has a <title> (what a pointer or a screen reader gets); the page puts the same figures in a table.

Only presentation attributes, no inline style, so the page's Content Security Policy holds.
"""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from .results import Matrix

CELL_W, CELL_H = 64, 40
LABEL_W, HEADER_H, LEGEND_H = 180, 110, 56
LEGEND_W = 5 * 36 + 16 + 44 + 200  # five swatches, the hatched one and its words
# A diverging scale that stays readable with red-green colour blindness: 1 orange, 3 pale, 5 purple.
STOPS = ((1.0, (179, 88, 6)), (3.0, (247, 247, 247)), (5.0, (84, 39, 136)))
HIDDEN_FILL = "url(#too-few)"


def colour(mean: float) -> str:
    """The fill for a mean on the 1–5 scale."""
    mean = min(max(mean, 1.0), 5.0)
    for (low, a), (high, b) in zip(STOPS, STOPS[1:]):
        if mean <= high:
            t = (mean - low) / (high - low)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))
    return "#%02x%02x%02x" % STOPS[-1][1]


def _ink(mean: float) -> str:
    """Dark text on the pale middle of the scale, white on its ends."""
    return "#1a1a1a" if 2.2 <= mean <= 3.8 else "#ffffff"


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def caption(round_title: str) -> str:
    return _("Overall rating of each interface in %(round)s: rated department down, customer department across.",
             round=round_title)


def render(matrix: Matrix, names: dict[int, str], threshold: int, caption: str) -> Markup:
    """The matrix as an inline <svg> element; `names` gives each department's label."""
    width = LABEL_W + max(CELL_W * len(matrix.customers), LEGEND_W)
    height = HEADER_H + CELL_H * max(len(matrix.suppliers), 1) + LEGEND_H
    too_few = _("fewer than %(n)s answers", n=threshold)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="heatmap-title" font-size="13">',
        f'<title id="heatmap-title">{escape(caption)}</title>',
        '<defs><pattern id="too-few" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="8" stroke="#a8a8a8" stroke-width="3"/>'
        "</pattern></defs>",
    ]
    for column, customer in enumerate(matrix.customers):
        x = LABEL_W + column * CELL_W + CELL_W / 2
        name = names.get(customer, "?")
        parts.append(f'<text x="{x:g}" y="{HEADER_H - 8}" transform="rotate(-40 {x:g} {HEADER_H - 8})">'
                     f"<title>{escape(name)}</title>{escape(_label(name))}</text>")
    for row, supplier in enumerate(matrix.suppliers):
        y = HEADER_H + row * CELL_H
        name = names.get(supplier, "?")
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + CELL_H / 2 + 5:g}" text-anchor="end">'
                     f"<title>{escape(name)}</title>{escape(_label(name))}</text>")
        for column, customer in enumerate(matrix.customers):
            x = LABEL_W + column * CELL_W
            if customer == supplier:  # nobody rates their own department
                continue
            overall = matrix.cell(supplier, customer).overall
            pair = _("%(supplier)s → %(customer)s", supplier=name, customer=names.get(customer, "?"))
            if overall.shown:
                title = _("%(pair)s: %(mean).1f from %(n)s answers", pair=pair, mean=overall.mean, n=overall.count)
                parts.append(
                    f'<g><title>{escape(title)}</title><rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" '
                    f'fill="{colour(overall.mean)}" stroke="#ffffff"/><text x="{x + CELL_W / 2:g}" y="{y + CELL_H / 2 + 5:g}" '
                    f'text-anchor="middle" fill="{_ink(overall.mean)}">{overall.mean:.1f}</text></g>'
                )
            else:
                title = _("%(pair)s: %(reason)s", pair=pair, reason=too_few)
                parts.append(f'<g><title>{escape(title)}</title><rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" '
                             f'fill="{HIDDEN_FILL}" stroke="#ffffff"/></g>')
    parts.append(_legend(height - LEGEND_H + 16, too_few))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(y: int, too_few: str) -> str:
    label = escape(_("Overall rating"))  # not inside the f-string: the message extractor would not see it
    parts = [f'<g aria-hidden="true"><text x="0" y="{y + 15}">{label}</text>']
    for step, value in enumerate((1, 2, 3, 4, 5)):
        x = LABEL_W + step * 36
        parts.append(f'<rect x="{x}" y="{y}" width="36" height="20" fill="{colour(value)}"/>'
                     f'<text x="{x + 18}" y="{y + 15}" text-anchor="middle" fill="{_ink(value)}">{value}</text>')
    x = LABEL_W + 5 * 36 + 16
    parts.append(f'<rect x="{x}" y="{y}" width="36" height="20" fill="{HIDDEN_FILL}"/>'
                 f'<text x="{x + 44}" y="{y + 15}">{escape(too_few)}</text></g>')
    return "".join(parts)
