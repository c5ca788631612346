"""What `compare` measured, as rows (one per point, one column per variant), a markdown
and an HTML report with a bar chart, and the commands that repeat each number by hand."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROWS = [
    "name resolution",
    "allowed path",
    "isolation",
    "published port",
    "internal port on the node",
    "server address from its node",
    "path",
    "MTU",
    "on the underlay",
    "TCP RTT p50 / p99",
    "HTTP via web p50 / p99",
    "throughput (median)",
]
RATIO_ROWS = {
    "vs user bridge (RTT, thr.)": "user-bridge",
    "vs raw veth (RTT, thr.)": "raw",
    "vs plain overlay (RTT, thr.)": "plain-overlay",
}  # row -> the variant it is measured against
ROWS += list(RATIO_ROWS)


def _yes(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


def _cell(v: Dict[str, Any], row: str) -> str:
    if not v.get("measured"):
        return "not measured: " + v.get("why_not", "") if row == "name resolution" else "—"
    if row == "name resolution":
        r = v.get("resolution")
        if r is None:
            return "n/a (addresses only)"
        return f"yes: {r['lookup'].split()[2]} -> {r['answer']}" if r["resolves"] else "no: no answer"
    if row == "allowed path":
        a = v.get("allowed")
        return _yes(a["connects"], "connects", "FAILS") if a else "—"
    if row == "isolation":
        i = v.get("isolation")
        if i and i.get("not_sent"):
            return f"outsider blocked (not sent: {i['not_sent']}, no route within the lab)"
        return _yes(not i["connects"], "outsider blocked", "outsider CONNECTS") if i else "—"
    p = v.get("ports") or {}
    if row == "published port":
        return f"{p['published']['where']} {_yes(p['published']['answers'], 'answers', 'silent')}" if p else "—"
    if row == "internal port on the node":
        q = p.get("internal_on_node")
        return f"{q['where']} {_yes(q['answers'], 'ANSWERS', 'closed')}" if q else "—"
    if row == "server address from its node":
        q = p.get("server_ip_from_its_node")
        return f"{q['where']} {_yes(q['answers'], 'answers', 'unreachable')}" if q else "—"
    if row == "path":
        return " -> ".join(v["path"]["hops"])
    if row == "MTU":
        return str(v["path"]["mtu"])
    if row == "on the underlay":
        w = v.get("wire") or {}
        if "error" in w:
            return w["error"]
        if w["vxlan_frames"]:
            return f"VXLAN VNI {','.join(map(str, w['vnis']))}: {w['vxlan_frames']} frames, payload in clear"
        if w["esp_packets"]:
            return f"ESP: {w['esp_packets']} packets, payload " + _yes(w["payload_in_clear"], "IN CLEAR", "hidden")
        return "nothing of it left the node"
    if row == "TCP RTT p50 / p99":
        r = v.get("rtt") or {}
        return f"{r['p50_us']} / {r['p99_us']} µs" if "p50_us" in r else r.get("error", "—")
    if row == "HTTP via web p50 / p99":
        h = v.get("http")
        if not h:
            return "—"
        return f"{h['p50_ms']} / {h['p99_ms']} ms" if "p50_ms" in h else h.get("error", "—")
    if row == "throughput (median)":
        t = v.get("throughput") or {}
        return f"{t['median_gbps']} Gbit/s" if "median_gbps" in t else t.get("error", "—")
    r = (v.get("ratios") or {}).get(RATIO_ROWS[row]) or {}
    return f"x{r.get('rtt_p50')}, x{r.get('throughput')}" if r else "—"


def rows(data: Dict[str, Any]) -> Tuple[List[str], List[Tuple[str, List[str]]]]:
    """(column titles, [(row name, one cell per variant)])."""
    vs = data["variants"]
    return [v["title"] for v in vs], [(row, [_cell(v, row) for v in vs]) for row in ROWS]


def chart(data: Dict[str, Any], path: Path) -> Path:
    """Bar chart of RTT p50 and throughput per measured variant (SVG)."""
    import matplotlib  # here: matplotlib takes most of a second to import, and only a chart needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vs = [v for v in data["variants"] if v.get("measured")]
    names = [v["title"].replace(" (", "\n(") for v in vs]
    rtt = [(v.get("rtt") or {}).get("p50_us", 0) for v in vs]
    thr = [(v.get("throughput") or {}).get("median_gbps", 0) for v in vs]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    a.bar(names, rtt, color="#4c72b0")
    a.set_title("TCP round trip, p50 (µs, lower is better)")
    b.bar(names, thr, color="#55a868")
    b.set_title("throughput, iperf3 median (Gbit/s, higher is better)")
    for ax, vals in ((a, rtt), (b, thr)):
        ax.tick_params(axis="x", labelsize=8)
        for i, val in enumerate(vals):
            ax.annotate(f"{val}", (i, val), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)
    return path


def commands(data: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    """(variant, what, command) for every number, to repeat it by hand."""
    out = []
    for v in data["variants"]:
        for what in ("rtt", "throughput", "http"):
            cmd = (v.get(what) or {}).get("command")
            if cmd:
                out.append((v["title"], what, cmd))
    return out


def write(data: Dict[str, Any], directory: str) -> Dict[str, str]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    svg = chart(data, d / "chart.svg")
    cols, body = rows(data)
    md = [
        f"# swarmlab compare: lab {data['lab']}",
        "",
        f"Measured in {data['seconds']} s. Every loop bounded: {data['bounds']}.",
        "",
        "![latency and throughput per variant](chart.svg)",
        "",
        "| | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    md += ["| " + name + " | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for name, cells in body]
    md += ["", "## Repeat a number by hand", ""]
    md += [f"- **{title}, {what}**: `{cmd}`" for title, what, cmd in commands(data)]
    (d / "report.md").write_text("\n".join(md) + "\n")
    table = "<tr><th></th>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
    table += "".join(
        "<tr><th>" + html.escape(n) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        for n, cells in body
    )
    cmds = "".join(
        f"<li><b>{html.escape(t)}, {w}</b>: <code>{html.escape(c)}</code></li>" for t, w, c in commands(data)
    )
    (d / "report.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>swarmlab compare {html.escape(data['lab'])}</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;font-size:13px;"
        "vertical-align:top}table{border-collapse:collapse}</style>"
        f"<h1>swarmlab compare: lab {html.escape(data['lab'])}</h1>"
        f"<p>Measured in {data['seconds']} s.</p><img src='chart.svg' alt='chart'>"
        f"<table>{table}</table><h2>Repeat a number by hand</h2><ul>{cmds}</ul>"
    )
    return {"markdown": str(d / "report.md"), "html": str(d / "report.html"), "chart": str(svg)}
