"""Small server-rendered SVG charts (no JavaScript, no CDN) with a data-table fallback.

    chart = line_chart("Searches per day", labels, [("VPN", [3, 4, 1]), ("E-mail", [...])])
    {% include "insights/reports/includes/chart.html" with chart=chart %}

Each chart is an <svg role="img"> with <title> and <desc>, lines differ by dash pattern as
well as colour, and the same numbers are in a table under it (also what the export writes).
"""

import itertools
import math
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .export import Column, Table

# Colour-blind-safe palette (Okabe-Ito), dark enough on white for lines and bars.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4"]
_ids = itertools.count(1)


def nice_max(value):
    """A round axis maximum at or above value (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return int(candidate) if candidate >= 1 else candidate
    return 10 ** (exponent + 1)


def _fmt(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class Chart:
    kind: str  # "line" | "bar" | "multiples"
    title: str
    description: str
    labels: list
    series: list  # [(name, [values])]
    category_label: str = "Item"
    is_chart = True  # class attribute, not a field: templates tell charts from tables
    uid: str = field(default_factory=lambda: f"kbchart-{next(_ids)}")

    @property
    def table(self):
        if self.kind == "bar":
            name, values = self.series[0]
            return Table(
                self.title,
                [Column(self.category_label), Column(name, "int")],
                [[label, v] for label, v in zip(self.labels, values, strict=True)],
            )
        return Table(
            self.title,
            [Column("Period")] + [Column(name, "int") for name, _ in self.series],
            [
                [label] + [values[i] for _, values in self.series]
                for i, label in enumerate(self.labels)
            ],
        )

    @property
    def is_empty(self):
        return not self.labels or not any(v for _, values in self.series for v in values)

    def svg(self):
        if self.kind == "multiples":
            return self._multiples_html()
        return self._line_svg() if self.kind == "line" else self._bar_svg()

    def _multiples_html(self):
        """One small line chart per series on a shared scale, side by side: five topics
        drawn over each other are a tangle, five small panels read at a glance."""
        width, height, pad = 220, 72, 4
        top_value = nice_max(max([v for _, values in self.series for v in values] or [0]))
        n = len(self.labels)

        def x(i):
            return pad + ((width - 2 * pad) * i / (n - 1) if n > 1 else (width - 2 * pad) / 2)

        def y(v):
            return height - pad - (height - 2 * pad) * v / top_value

        panels = []
        for index, (name, values) in enumerate(self.series):
            uid = f"{self.uid}-{index}"
            peak = max(values or [0])
            summary = _("%(name)s: %(total)s in total, at most %(peak)s per period") % {
                "name": name,
                "total": sum(values),
                "peak": peak,
            }
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
            panels.append(
                format_html(
                    '<li class="kb-multiples__panel"><p class="kb-multiples__title">'
                    '<span class="kb-multiples__name">{name}</span> '
                    '<span class="kb-multiples__total">{total}</span></p>'
                    '<svg xmlns="http://www.w3.org/2000/svg" class="kb-multiples__svg" '
                    'role="img" viewBox="0 0 {w} {h}" width="100%" '
                    'preserveAspectRatio="none" aria-labelledby="{uid}-title">'
                    '<title id="{uid}-title">{summary}</title>'
                    '<line x1="0" x2="{w}" y1="{base}" y2="{base}" stroke="#ccc"/>'
                    '<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    'vector-effect="non-scaling-stroke" points="{points}"/></svg></li>',
                    name=name,
                    total=sum(values),
                    w=width,
                    h=height,
                    uid=uid,
                    summary=summary,
                    base=_n(y(0)),
                    colour=PALETTE[0],
                    points=points,
                )
            )
        return format_html(
            '<p class="help-text" id="{uid}-desc">{desc}</p>'
            '<ol class="kb-multiples" aria-describedby="{uid}-desc">{panels}</ol>',
            uid=self.uid,
            desc=self.description,
            panels=mark_safe("".join(str(p) for p in panels)),  # noqa: S308 - escaped above
        )

    def _open(self, width, height):
        return format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="kb-chart__svg" role="img" '
            'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" '
            'aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{title}</title>'
            '<desc id="{id}-desc">{desc}</desc>',
            w=width,
            h=height,
            id=self.uid,
            title=self.title,
            desc=self.description,
        )

    def _line_svg(self):
        width, height = 760, 280
        left, right, top, bottom = 48, 16, 16, 64
        plot_w, plot_h = width - left - right, height - top - bottom
        peak = max([v for _, values in self.series for v in values] or [0])
        top_value = nice_max(peak)
        n = len(self.labels)

        def x(i):
            return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

        def y(v):
            return top + plot_h - plot_h * v / top_value

        parts = [self._open(width, height)]
        for step in range(5):  # horizontal grid with its values
            value = top_value * step / 4
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
                    '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#333">{}</text>',
                    left,
                    width - right,
                    _n(y(value)),
                    _n(y(value)),
                    left - 6,
                    _n(y(value) + 4),
                    _fmt(round(value, 2) if isinstance(value, float) else value),
                )
            )
        label_every = max(1, math.ceil(n / 10))
        for i, label in enumerate(self.labels):
            if i % label_every == 0 or i == n - 1:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#333" '
                        'transform="rotate(-35 {} {})">{}</text>',
                        _n(x(i)),
                        height - bottom + 16,
                        _n(x(i)),
                        height - bottom + 16,
                        label,
                    )
                )
        for index, (name, values) in enumerate(self.series):
            colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
            parts.append(
                format_html(
                    '<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" '
                    'points="{}"><title>{}</title></polyline>',
                    colour,
                    dash,
                    points,
                    name,
                )
            )
            parts.append(
                format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} {}</title></circle>',
                    (
                        (_n(x(i)), _n(y(v)), colour, name, self.labels[i], v)
                        for i, v in enumerate(values)
                    ),
                )
            )
        parts.append("</svg>")
        return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - parts are escaped

    def _bar_svg(self):
        _name, values = self.series[0]
        row, label_w, width = 26, 220, 760
        height = 16 + row * max(1, len(values))
        top_value = nice_max(max(values or [0]))
        plot_w = width - label_w - 60
        parts = [self._open(width, height)]
        for i, (label, value) in enumerate(zip(self.labels, values, strict=True)):
            y = 8 + i * row
            bar = plot_w * value / top_value
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#222">{}</text>'
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                    '<text x="{}" y="{}" font-size="12" fill="#222">{}</text>',
                    label_w - 8,
                    y + 15,
                    _truncate(str(label), 32),
                    label_w,
                    y + 3,
                    _n(bar),
                    row - 8,
                    PALETTE[0],
                    label,
                    value,
                    _n(label_w + bar + 6),
                    y + 15,
                    value,
                )
            )
        parts.append("</svg>")
        return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - parts are escaped

    def legend(self):
        return [
            (name, PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)])
            for i, (name, _) in enumerate(self.series)
        ]


def _n(value):
    return f"{value:.1f}"


def _truncate(text, length):
    return text if len(text) <= length else text[: length - 1] + "…"


def line_chart(title, labels, series, description=""):
    """Lines over time: labels are the x positions, series [(name, values)] one per line."""
    description = description or f"{title}: " + "; ".join(
        f"{name} {sum(values)} in total" for name, values in series
    )
    return Chart("line", title, description, list(labels), list(series))


def small_multiples_chart(title, labels, series, description=""):
    """One small line chart per series (same scale), for a few series that would tangle."""
    return Chart("multiples", title, description, list(labels), list(series))


def bar_chart(title, labels, values, value_name="Count", category_label="Item", description=""):
    """Horizontal bars, one per label."""
    description = description or f"{title}: " + "; ".join(
        f"{label} {value}" for label, value in zip(labels, values, strict=True)
    )
    return Chart(
        "bar", title, description, list(labels), [(value_name, list(values))], category_label
    )
