"""build/bench/report.html: the report's figures as inline SVG (no network).

Three pictures: every ratio target against its goal, the copas handshake
latency distribution (ours vs upstream), and server RSS against the number
of open connections. The tables stay in report.md.
"""
import html

from .report import all_targets, stat

COLORS = {"ours": "#1f6fb4", "upstream": "#d9730d"}


def _svg(width, height, body):
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
            'font-family="sans-serif" font-size="11">%s</svg>' % (width, height, "".join(body)))


def _text(x, y, s, anchor="start", **kw):
    extra = "".join(' %s="%s"' % (k.replace("_", "-"), v) for k, v in kw.items())
    return '<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>' % (x, y, anchor, extra,
                                                                     html.escape(str(s)))


def ratio_chart(targets):
    """One bar per ratio target (unit ×): the measured ratio, a black tick
    at the goal; green when met, red when missed."""
    rows = [t for t in targets if t.unit == "×" and t.measured is not None]
    label_w, plot_w, row_h = 560, 360, 18
    top = max([t.measured for t in rows] + [t.goal for t in rows] + [1.0]) * 1.1
    scale = plot_w / top
    body = []
    for i, t in enumerate(rows):
        y = 20 + i * row_h
        met = t.status()[0] == "met"
        body.append(_text(label_w - 6, y + 12, t.name[:95], "end"))
        body.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                    % (label_w, y + 3, t.measured * scale, row_h - 6,
                       "#3a9d3a" if met else "#c8423b"))
        gx = label_w + t.goal * scale
        body.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black" stroke-width="2"/>'
                    % (gx, gx, y + 1, y + row_h - 1))
        body.append(_text(label_w + t.measured * scale + 4, y + 12, "%.2f×" % t.measured))
    x1 = label_w + scale
    body.append('<line x1="%.1f" x2="%.1f" y1="14" y2="%d" stroke="#999" stroke-dasharray="3,3"/>'
                % (x1, x1, 20 + len(rows) * row_h))
    body.append(_text(x1, 12, "1.0×", "middle"))
    return _svg(label_w + plot_w + 60, 30 + len(rows) * row_h, body)


def _axes(x0, y0, w, h, xlabel, ylabel, xmax, ymax):
    body = ['<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0, x0 + w, y0),
            '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (x0, y0, x0, y0 - h)]
    for k in range(5):
        fx, fy = x0 + w * k / 4.0, y0 - h * k / 4.0
        body.append(_text(fx, y0 + 14, "%g" % round(xmax * k / 4.0, 1), "middle"))
        body.append(_text(x0 - 4, fy + 4, "%g" % round(ymax * k / 4.0, 1), "end"))
    body.append(_text(x0 + w / 2.0, y0 + 30, xlabel, "middle"))
    body.append(_text(14, y0 - h / 2.0, ylabel, "middle",
                      transform="rotate(-90 14 %.1f)" % (y0 - h / 2.0)))
    return body


def _lines(series, xlabel, ylabel):
    """series: {name: [(x, y)]} -> an SVG line chart with a legend."""
    pts = [p for s in series.values() for p in s]
    if not pts:
        return "<p>not measured</p>"
    xmax = max(p[0] for p in pts) or 1
    ymax = max(p[1] for p in pts) * 1.05 or 1
    x0, y0, w, h = 70, 250, 460, 220
    body = _axes(x0, y0, w, h, xlabel, ylabel, xmax, ymax)
    for i, (name, s) in enumerate(sorted(series.items())):
        color = COLORS.get(name, "#555")
        path = " ".join("%.1f,%.1f" % (x0 + w * x / xmax, y0 - h * y / ymax) for x, y in s)
        body.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>'
                    % (path, color))
        body.append('<rect x="%d" y="%d" width="12" height="4" fill="%s"/>' % (x0 + 10, 30 + 16 * i, color))
        body.append(_text(x0 + 28, 35 + 16 * i, name))
    return _svg(560, 300, body)


def _median_run(samples, metric):
    """The sample whose metric is the median (so a picture shows one real run)."""
    ranked = sorted(samples, key=lambda s: s[metric])
    return ranked[len(ranked) // 2] if ranked else None


def latency_chart(results):
    series = {}
    for impl in ("ours", "upstream"):
        run = _median_run(results.get("load", ("1.3", "rsa"), impl), "hs_per_s")
        if run:
            series[impl] = [(ms, pct) for pct, ms in zip(range(1, 101), run["lat_pct"])]
    return _lines(series, "handshake latency, ms (connect to done)", "% of handshakes")


def rss_chart(results):
    series = {}
    for impl in ("ours", "upstream"):
        run = _median_run(results.get("load", ("1.3", "rsa"), impl), "rss_per_conn_kib")
        if run:
            series[impl] = list(zip(run["open"], [k / 1024.0 for k in run["rss_kib"]]))
    return _lines(series, "open TLS connections", "server RSS, MiB")


def render(results, meta):
    targets = all_targets(results, meta["cfg"])
    return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sslua benchmarks</title>
<style>body{font-family:sans-serif;max-width:1050px;margin:2em auto}h2{margin-top:2em}</style>
</head><body>
<h1>sslua benchmarks</h1>
<p>%s run; the tables, methods and reasons are in report.md beside this file.</p>
<h2>Ratios against their goals</h2>
<p>Bars: ours ÷ the other implementation (median). Black tick: the goal (at least, or at
most for instructions and RSS). Green: met; red: missed.</p>
%s
<h2>Handshake latency, copas echo server, %d clients in waves of %d</h2>
<p>Cumulative distribution at the client; the median run of each server.</p>
%s
<h2>Server RSS against open connections</h2>
%s
</body></html>
""" % (html.escape(meta["mode"]), ratio_chart(targets), meta["cfg"].get("load_count", 0),
       meta["cfg"].get("load_wave", 0), latency_chart(results), rss_chart(results))
