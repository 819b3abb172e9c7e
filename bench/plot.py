"""Draw latency against load from a bench result as a small self-contained SVG (no libraries).

    python bench/plot.py bench/results/<timestamp>.json docs/performance-latency.svg

One line per setup (product, two processes, stock relay, bare echo): p99 delivery latency of
each step (both directions) against the offered rate, both axes logarithmic; dashed: p50. The
red line is the knee's bound, 100 ms.
"""

import json
import math
import sys
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 780, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 30, 50
SERIES = [
    ("product", "product, 1 process", "#1f77b4"),
    ("two_processes", "product, 2 processes", "#2ca02c"),
    ("relay", "stock Channels relay", "#ff7f0e"),
    ("echo", "bare ASGI echo", "#7f7f7f"),
]
Y_MIN_MS, Y_MAX_MS = 1.0, 10_000.0


def _points(steps: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [
        (step["rate"], step["latency_ms"]["both"][key])
        for step in steps
        if step["latency_ms"]["both"][key] is not None
    ]


def svg(results: dict[str, Any]) -> str:
    rates = [s["rate"] for name, _, _ in SERIES for s in results.get(name, [])]
    x_min = 10 ** math.floor(math.log10(min(rates, default=10.0)))
    x_max = 10 ** math.ceil(math.log10(max(rates, default=100.0)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(rate: float) -> float:
        return LEFT + plot_w * math.log10(rate / x_min) / math.log10(x_max / x_min)

    def y(ms: float) -> float:
        ms = min(max(ms, Y_MIN_MS), Y_MAX_MS)
        span = math.log10(Y_MAX_MS) - math.log10(Y_MIN_MS)
        return TOP + plot_h * (1 - (math.log10(ms) - math.log10(Y_MIN_MS)) / span)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="14">Delivery latency vs offered load '
        f"(p99 solid, p50 dashed)</text>",
    ]
    for ms in (1, 10, 100, 1000, 10000):
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(ms):.1f}" y2="{y(ms):.1f}" '
            f'stroke="{"#d62728" if ms == 100 else "#ddd"}"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms} ms</text>')
    decade = x_min
    while decade <= x_max:
        out.extend(
            f'<text x="{x(tick):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{tick:g}</text>'
            for tick in (decade, 2 * decade, 5 * decade)
            if tick <= x_max
        )
        decade *= 10
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
        "offered rate, messages/s</text>"
    )
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>'
    )
    for i, (name, label, colour) in enumerate(SERIES):
        steps = results.get(name) or []
        for key, dash in (("p99", ""), ("p50", ' stroke-dasharray="4 3"')):
            pts = _points(steps, key)
            if pts:
                path = " ".join(f"{x(r):.1f},{y(ms):.1f}" for r, ms in pts)
                out.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash}/>'
                )
        ly = TOP + 10 + 20 * i
        out.append(
            f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 30}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        knee = results.get("knee", {}).get(name)
        suffix = f" (knee {knee:g})" if knee else ""
        out.append(f'<text x="{WIDTH - RIGHT + 35}" y="{ly + 4}">{label}{suffix}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(svg(results))


if __name__ == "__main__":
    main()
