"""Inline SVG for the site: a sparkline per index row and the history plot of a series page.

Plain SVG written as text (no plotting library, no JavaScript): a series page
of 200 runs x 3 repeats is ~100 kB and draws without any script. x is the
commit time (UTC); runs that share a commit time are spread over a small slice
after it, in the order they started, so each stays a point of its own. Every
median point is a link to its run's page with a tooltip (run, commit, dates,
value and unit); every repeat is a small dot; each judged step is shaded
between the last run before and the first run after it (red regression, green
improvement, grey pending).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from harness.site.data import RunRecord, SeriesView

PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
DASHES = ("", "6 3", "2 2", "8 3 2 3", "1 3", "4 4")
VERDICT_FILL = {"regression": "#d62728", "improvement": "#2ca02c", "pending": "#999999"}
W, H, LEFT, RIGHT, TOP, BOTTOM = 880, 340, 78, 16, 22, 58


def seconds(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 time (naive: UTC); NaN when empty or unreadable."""
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def positions(runs: Sequence[RunRecord]) -> dict[str, float]:
    """x (seconds) of every run: its commit time; runs sharing one are spread after it by start time."""
    ordered = sorted(runs, key=lambda r: (seconds(r.when), r.started_utc, r.key))
    times = sorted({seconds(r.when) for r in runs if not math.isnan(seconds(r.when))})
    gaps = [b - a for a, b in zip(times, times[1:], strict=False) if b > a]
    width = 0.6 * min(gaps) if gaps else 3600.0
    ties: dict[float, list[RunRecord]] = {}
    for i, r in enumerate(ordered):
        t = seconds(r.when)
        ties.setdefault(t if not math.isnan(t) else float(i), []).append(r)
    return {r.key: t + width * k / len(group) for t, group in ties.items() for k, r in enumerate(group)}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round values covering [lo, hi]."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def date_label(t: float, span: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return d.strftime("%Y-%m-%d %H:%M") if span < 3 * 86400 else d.strftime("%Y-%m-%d")


def sparkline(values: Sequence[float], higher_is_better: bool, width: int = 120, height: int = 26) -> str:
    """A trend line of per-run medians; the last point marked."""
    v = [x for x in values if math.isfinite(x)]
    if not v:
        return ""
    lo, hi = min(v), max(v)
    span = (hi - lo) or abs(hi) or 1.0
    pts = [(2 + (width - 4) * i / max(1, len(v) - 1), height - 3 - (height - 6) * (x - lo) / span) for i, x in enumerate(v)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    direction = "higher is better" if higher_is_better else "lower is better"
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>{len(v)} runs, {fmt(lo)} to {fmt(hi)} ({direction})</title>"
            f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="1.2"/>'
            f'<circle cx="{pts[-1][0]:.1f}" cy="{pts[-1][1]:.1f}" r="2.2" fill="#1f77b4"/></svg>')  # fmt: skip


class Frame:
    """Data to pixel coordinates of the plot area."""

    def __init__(self, x0: float, x1: float, y0: float, y1: float) -> None:
        pad_x = (x1 - x0) * 0.03 or 3600.0
        pad_y = (y1 - y0) * 0.08 or abs(y1) * 0.05 or 1.0
        self.x0, self.x1, self.y0, self.y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    def x(self, t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * (t - self.x0) / (self.x1 - self.x0)

    def y(self, v: float) -> float:
        return H - BOTTOM - (H - TOP - BOTTOM) * (v - self.y0) / (self.y1 - self.y0)


def _axes(f: Frame, s: SeriesView) -> list[str]:
    out = [f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="#fff" stroke="#ccc"/>']
    for v in nice_ticks(f.y0, f.y1):
        y = f.y(v)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{fmt(v)}</text>')  # fmt: skip
    span = f.x1 - f.x0
    for i in range(6):
        t = f.x0 + span * (i + 0.5) / 6
        x = f.x(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{H - BOTTOM}" y2="{H - BOTTOM + 4}" stroke="#666"/>'
                   f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{date_label(t, span)}</text>')  # fmt: skip
    arrow = "↑ higher is better" if s.higher_is_better else "↓ lower is better"
    unit = f" ({escape(s.unit)})" if s.unit else ""
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">commit time (UTC); '
               f"runs of one commit side by side, in start order</text>"
               f'<text transform="translate(14 {(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
               f"{escape(s.metric)}{unit} {arrow}</text>")  # fmt: skip
    return out


def tooltip(s: SeriesView, run: RunRecord, value: str) -> str:
    return escape(f"run {run.key}\ncommit {run.commit[:12] or '?'} ({run.commit_utc or 'time unknown'})\n"
                  f"started {run.started_utc or '?'}\nmachine {run.machine}\n{s.metric} = {value} {s.unit}")  # fmt: skip


def _steps(f: Frame, s: SeriesView, xs: dict[str, float], machine: str) -> list[str]:
    out = []
    for st in s.steps:
        a, b = f.x(xs[st.previous.key]), f.x(xs[st.run.key])
        text = (f"{st.verdict} {st.change:+.1%} between {st.previous.commit[:7] or st.previous.key} and "
                f"{st.run.commit[:7] or st.run.key} ({st.n_before} runs before, {st.n_after} after), {machine}")
        out.append(f'<rect class="step {st.verdict}" x="{a:.1f}" y="{TOP}" width="{max(b - a, 2):.1f}" '
                   f'height="{H - TOP - BOTTOM}" fill="{VERDICT_FILL.get(st.verdict, "#999")}" fill-opacity="0.22">'
                   f"<title>{escape(text)}</title></rect>"
                   f'<text x="{b:.1f}" y="{TOP - 5}" text-anchor="end" fill="{VERDICT_FILL.get(st.verdict, "#666")}">'
                   f"{escape(st.verdict)} {st.change:+.1%}</text>")  # fmt: skip
    return out


def _machine(f: Frame, s: SeriesView, xs: dict[str, float], k: int, prefix: str) -> str:
    color, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
    out = [f'<g class="machine" data-machine="{escape(s.machine)}">', *_steps(f, s, xs, s.machine)]
    dots = "".join(f'<circle cx="{f.x(xs[p.run.key]):.1f}" cy="{f.y(v):.1f}" r="1.6"/>' for p in s.points for v in p.values)
    out.append(f'<g fill="{color}" fill-opacity="0.35">{dots}</g>')
    line = " ".join(f"{f.x(xs[p.run.key]):.1f},{f.y(p.median):.1f}" for p in s.points)
    out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="1.4"'
               + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")  # fmt: skip
    for p in s.points:
        out.append(f'<a href="{prefix}{p.run.page}"><circle class="pt" cx="{f.x(xs[p.run.key]):.1f}" '
                   f'cy="{f.y(p.median):.1f}" r="3" fill="{color}"><title>{tooltip(s, p.run, fmt(p.median))} '
                   f"(median of {len(p.values)})</title></circle></a>")  # fmt: skip
    return "".join(out) + "</g>"


def series_plot(series: Sequence[SeriesView], prefix: str = "../") -> str:
    """The history plot of one case x metric, one layer per machine (``prefix``: from the page to the root)."""
    xs = positions([p.run for s in series for p in s.points])
    values = [v for s in series for p in s.points for v in p.values]
    f = Frame(min(xs.values()), max(xs.values()), min(values), max(values))
    body = _axes(f, series[0]) + [_machine(f, s, xs, k, prefix) for k, s in enumerate(series)]
    return (f'<svg class="plot" viewBox="0 0 {W} {H}" width="100%" role="img" font-size="11" '
            f'font-family="sans-serif"><title>{escape(series[0].case_label)}: {escape(series[0].metric)}</title>'
            + "".join(body) + "</svg>")  # fmt: skip


def legend(series: Sequence[SeriesView]) -> list[tuple[str, str, str]]:
    """(machine, colour, dash pattern) of each layer, for the page's legend."""
    return [(s.machine, PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]) for k, s in enumerate(series)]
