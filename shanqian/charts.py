"""
Small server-rendered SVG charts for the back office's start page (no JavaScript, no CDN; the
Content-Security-Policy needs nothing new: the SVG is inline markup styled by classes in
``shanqian/static/shanqian/admin.css``).

* ``bar_chart(bars, …)`` — one bar per ``Bar(label, value, url)``, each bar a link, the value
  in its ``<title>`` (a tooltip) and, where there is room, printed above it.
* ``funnel_chart(stages, …)`` — horizontal bars of decreasing width, ``Bar`` again, each with its
  count and its share of the first stage.

Every text goes through ``format_html``: labels are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str = ""
    tone: str = ""  # a CSS class suffix: sq-bar-<tone>


def _n(value: float) -> str:
    # format_html escapes its arguments to strings first: numbers are formatted before.
    return f"{value:.1f}"


def _link(url: str, inner: SafeString) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, inner) if url else inner


def bar_chart(
    bars: Sequence[Bar], *, title: str, width: int = 620, height: int = 160, label_every: int = 5, css_class: str = ""
) -> SafeString:
    """A column chart; every ``label_every``-th bar (and the last) gets its label under the axis."""
    top, bottom, left = 16, 22, 4
    plot_height = height - top - bottom
    peak = max((bar.value for bar in bars), default=0) or 1
    step = (width - left) / max(len(bars), 1)
    bar_width = max(step * 0.7, 1.0)
    parts = []
    for index, bar in enumerate(bars):
        x = left + index * step + (step - bar_width) / 2
        h = plot_height * bar.value / peak
        y = top + plot_height - h
        rect = format_html(
            '<rect class="sq-bar{}" x="{}" y="{}" width="{}" height="{}"><title>{}：{}</title></rect>',
            f" sq-bar-{bar.tone}" if bar.tone else "",
            _n(x),
            _n(y),
            _n(bar_width),
            _n(max(h, 0.5)),
            bar.label,
            bar.value,
        )
        parts.append(_link(bar.url, rect))
        if bar.value and bar_width >= 12:
            parts.append(
                format_html(
                    '<text class="sq-bar-value" x="{}" y="{}">{}</text>', _n(x + bar_width / 2), _n(y - 3), bar.value
                )
            )
        if index % label_every == 0 or index == len(bars) - 1:
            parts.append(
                format_html(
                    '<text class="sq-axis-label" x="{}" y="{}">{}</text>', _n(x + bar_width / 2), height - 6, bar.label
                )
            )
    return format_html(
        '<svg class="sq-chart {}" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<line class="sq-axis" x1="0" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        css_class,
        title,
        width,
        height,
        title,
        top + plot_height,
        width,
        top + plot_height,
        mark_safe("".join(parts)),  # noqa: S308  (each part built by format_html above)
    )


def funnel_chart(stages: Sequence[Bar], *, title: str, width: int = 620, row_height: int = 30) -> SafeString:
    """Stages as centred horizontal bars scaled to the first; label, count and share beside each."""
    label_width, gap = 110, 6
    plot_width = width - label_width - 120
    first = stages[0].value if stages else 0
    peak = max((stage.value for stage in stages), default=0) or 1
    height = len(stages) * (row_height + gap) + gap
    rows = []
    for index, stage in enumerate(stages):
        y = gap + index * (row_height + gap)
        bar_width = max(plot_width * stage.value / peak, 1.0)
        x = label_width + (plot_width - bar_width) / 2
        share = f"{100 * stage.value / first:.0f}%" if first else "-"
        rect = format_html(
            '<rect class="sq-bar{}" x="{}" y="{}" width="{}" height="{}" rx="3"><title>{}：{}</title></rect>',
            f" sq-bar-{stage.tone}" if stage.tone else "",
            _n(x),
            y,
            _n(bar_width),
            row_height,
            stage.label,
            stage.value,
        )
        rows.append(
            format_html(
                '<text class="sq-funnel-label" x="0" y="{}">{}</text>{}'
                '<text class="sq-funnel-value" x="{}" y="{}">{}（{}）</text>',
                _n(y + row_height * 0.68),
                stage.label,
                _link(stage.url, rect),
                label_width + plot_width + 8,
                _n(y + row_height * 0.68),
                stage.value,
                share,
            )
        )
    return format_html(
        '<svg class="sq-chart sq-funnel" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        width,
        height,
        title,
        format_html_join("", "{}", ((row,) for row in rows)),
    )
