"""Small SVG charts drawn on the server (no scripts, no CDN): funnel, bars and a trend line."""

from markupsafe import Markup, escape

PALETTE = ("#1f6fb2", "#e07b39", "#3a9d5d", "#9b59b6", "#c0392b")


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def funnel(stages: list[tuple[str, int]], title: str = "转化漏斗") -> Markup:
    """Centered bars narrowing stage by stage, each labelled with its count."""
    width, row = 640, 44
    top = max((v for _, v in stages), default=0) or 1
    body = []
    for i, (label, value) in enumerate(stages):
        w = max(4.0, 460 * value / top)
        x = 170 + (460 - w) / 2
        y = 8 + i * row
        body.append(
            f'<g class="stage" data-stage="{escape(label)}" data-value="{value}">'
            f'<text x="160" y="{y + 24}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 10}" rx="4" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="400" y="{y + 24}" text-anchor="middle" class="on-bar">{value}</text></g>'
        )
    return _svg(width, 16 + row * len(stages), body, title)


def bars(rows: list[dict], label_key: str, series: list[tuple[str, str]], title: str) -> Markup:
    """Grouped horizontal bars: one group per row, one bar per (key, legend) series."""
    width, bar, gap = 640, 10, 10
    top = max((r[k] for r in rows for k, _ in series), default=0) or 1
    group = bar * len(series) + gap
    body = []
    for j, (_, legend) in enumerate(series):
        body.append(
            f'<rect x="{170 + j * 110}" y="4" width="10" height="10" '
            f'fill="{PALETTE[j]}"/><text x="{184 + j * 110}" y="13">{escape(legend)}</text>'
        )
    for i, r in enumerate(rows):
        y0 = 24 + i * group
        body.append(
            f'<text x="160" y="{y0 + bar * len(series) / 2 + 4}" text-anchor="end">'
            f"{escape(r[label_key])}</text>"
        )
        for j, (key, _) in enumerate(series):
            w = 420 * r[key] / top
            body.append(
                f'<rect x="170" y="{y0 + j * bar}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{PALETTE[j]}"/><text x="{174 + w:.1f}" y="{y0 + j * bar + 9}" '
                f'class="small">{r[key]}</text>'
            )
    return _svg(width, 30 + group * max(1, len(rows)), body, title)


def trend(rows: list[dict], series: list[tuple[str, str]], title: str) -> Markup:
    """Lines over months, one per (key, legend) series."""
    width, height, left, bottom = 640, 240, 40, 200
    top = max((r[k] for r in rows for k, _ in series), default=0) or 1
    step = (width - left - 20) / max(1, len(rows) - 1)
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{bottom - 160 + 4}" text-anchor="end" class="small">{top}</text>',
    ]
    for i, r in enumerate(rows):
        if i % 2 == 0 or len(rows) <= 6:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{bottom + 16}" text-anchor="middle" '
                f'class="small">{escape(r["month"][2:])}</text>'
            )
    for j, (key, legend) in enumerate(series):
        points = " ".join(
            f"{left + i * step:.1f},{bottom - 160 * r[key] / top:.1f}" for i, r in enumerate(rows)
        )
        body.append(
            f'<polyline fill="none" stroke="{PALETTE[j]}" stroke-width="2" points="{points}"/>'
        )
        body.append(
            f'<rect x="{left + j * 110}" y="4" width="10" height="10" '
            f'fill="{PALETTE[j]}"/><text x="{left + 14 + j * 110}" y="13">'
            f"{escape(legend)}</text>"
        )
    return _svg(width, height, body, title)
