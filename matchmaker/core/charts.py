"""Small SVG charts drawn on the server (no scripts, no CDN): funnel, bars and a trend line.

Charts are drawn 400 units wide with 15-unit text and shown at most at that size, so on a
390 px phone (about 340 px for the chart) the text still renders at 12 px or more. Labels sit
beside bars, never on them, so a short bar keeps a readable number.
"""

from markupsafe import Markup, escape

PALETTE = ("#1f6fb2", "#c2571a", "#2e7d4f", "#7d3c98", "#b03a2e")
WIDTH = 400
FONT = 15


def _svg(height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'font-size="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(series: list[tuple[str, str]], y: int = 4) -> list[str]:
    out, x = [], 0
    for j, (_, legend) in enumerate(series):
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{y + 12}">{escape(legend)}</text>'
        )
        x += 26 + FONT * len(legend)
    return out


def funnel(stages: list[tuple[str, int]], title: str = "转化漏斗") -> Markup:
    """One bar per stage, the stage name to its left and its count just after its end."""
    label_w, row, bar_max = 100, 34, 240
    top = max((v for _, v in stages), default=0) or 1
    body = []
    for i, (label, value) in enumerate(stages):
        w = max(3.0, bar_max * value / top)
        y = 4 + i * row
        body.append(
            f'<g class="stage" data-stage="{escape(label)}" data-value="{value}">'
            f'<text x="{label_w - 6}" y="{y + 19}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 10}" rx="3" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 19}" class="value">{value}</text></g>'
        )
    return _svg(8 + row * len(stages), body, title)


def bars(rows: list[dict], label_key: str, series: list[tuple[str, str]], title: str) -> Markup:
    """Grouped horizontal bars: each group's name above its bars, values after the bars."""
    bar, label_h, gap, bar_max = 14, 20, 8, 330
    top = max((r[k] for r in rows for k, _ in series), default=0) or 1
    group = label_h + bar * len(series) + gap
    body = _legend(series)
    for i, r in enumerate(rows):
        y0 = 26 + i * group
        body.append(f'<text x="0" y="{y0 + 15}">{escape(r[label_key])}</text>')
        for j, (key, _) in enumerate(series):
            w = bar_max * r[key] / top
            y = y0 + label_h + j * bar
            body.append(
                f'<rect x="0" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                f'<text x="{w + 4:.1f}" y="{y + 11}" class="small">{r[key]}</text>'
            )
    return _svg(30 + group * max(1, len(rows)), body, title)


def with_data(rows: list[dict], keys: list[str]) -> list[dict]:
    """The months from the first one with any figure to the last row (all, if none has data)."""
    first = next((i for i, r in enumerate(rows) if any(r[k] for k in keys)), None)
    return rows if first is None else rows[first:]


def trend(rows: list[dict], series: list[tuple[str, str]], title: str) -> Markup:
    """Lines over the months that have data, one per (key, legend) series, with dots."""
    rows = with_data(rows, [k for k, _ in series])
    height, left, bottom, plot_h = 250, 34, 210, 160
    top = max((r[k] for r in rows for k, _ in series), default=0) or 1
    step = (WIDTH - left - 24) / max(1, len(rows) - 1)
    every = 1 if len(rows) <= 6 else 2
    body = _legend(series)
    body += [
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 8}" y2="{bottom}" stroke="#6b7785"/>',
        f'<text x="{left - 6}" y="{bottom - plot_h + 5}" text-anchor="end" class="small">'
        f"{top}</text>",
        f'<text x="{left - 6}" y="{bottom + 5}" text-anchor="end" class="small">0</text>',
    ]
    for i, r in enumerate(rows):
        if (len(rows) - 1 - i) % every == 0:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{bottom + 22}" text-anchor="middle" '
                f'class="small">{escape(r["month"][2:])}</text>'
            )
    for j, (key, _) in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        xy = [(left + i * step, bottom - plot_h * r[key] / top) for i, r in enumerate(rows)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{points}"/>'
        )
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in xy]
    return _svg(height, body, title)
