"""The report's sections, from the kept envelopes: the lab (status, its graph), the latest
`verify` with its evidence, `compare`, the drills' timelines, the lessons' progress. Pure:
no lab is read here, so a page is built again the same way from the files alone."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..naming import short_task
from . import charts
from .model import BAD, GOOD, WARN, Figure, Grid, Links, Parts, Section, cell, status_tone, yes_no

Drawn = Callable[[Callable[[Path], Path], str], Optional[str]]  # (what writes it, file name) -> SVG, or None


def _when(doc: Optional[Dict[str, Any]]) -> str:
    return (doc or {}).get("kept_at", "?").replace("T", " ").replace("Z", " UTC")


def lab_section(lab: str, kept: Dict[str, Any], graph_svg: Optional[str], graph_why: str) -> Section:
    if "status" not in kept:
        return Section(
            "lab",
            f"lab {lab}",
            [
                "no status of this lab was kept (`up`, `status` or `report` keep it while "
                "the lab runs; a lab `compare` makes and removes has none)"
            ],
            tone=WARN,
        )
    st = kept["status"]["data"]
    sec = Section("lab", f"lab {st['lab']}", tone=GOOD if st.get("whole") else WARN)
    sec.lines.append(
        f"provider {st['provider']}, address pool {st.get('pool')}; "
        f"status as read at {_when(kept['status'])}"
        + (" (live)" if kept.get("live") else " (kept: the lab was not running when this page was made)")
    )
    if st.get("whole"):
        sec.lines.append("whole: every node up and in the swarm, every service at its replicas")
    elif st.get("lacking"):
        sec.lines.append("not whole: " + "; ".join(st["lacking"]))
    up = (kept.get("up") or {}).get("data") or {}
    if up.get("up"):
        steps = ", ".join(f"{k} {v}" for k, v in (up["up"].get("steps") or {}).items())
        sec.lines.append(
            f"last `up` at {_when(kept['up'])}: {up['up']['seconds']} s"
            + (" (made anew)" if up["up"].get("created") else "")
            + (f"; steps (s): {steps}" if steps else "")
        )
    if kept.get("down"):
        sec.lines.append(f"removed by `down` at {_when(kept['down'])}")
    sec.lines += [f"note: {n}" for n in st.get("notes", [])]
    if graph_svg:
        sec.parts.append(
            Figure(
                "the lab as Swarm runs it",
                graph_svg,
                "lab.svg",
                "hosts with their tasks, overlays linked to the tasks on them",
            )
        )
    else:
        sec.lines.append(f"no picture of the lab: {graph_why}")
    sec.parts += [_nodes(st), _networks(st), _services(st)]
    return sec


def _nodes(st: Dict[str, Any]) -> Grid:
    caps = st.get("capabilities", {})
    rows = []
    for n in st["nodes"]:
        c = caps.get(n["name"], {})
        rows.append(
            [
                cell(n["name"], key=n["name"]),
                cell(n["role"] + (f" ({n['manager']})" if n.get("manager") else "")),
                cell(n["address"]),
                cell(n["container"], GOOD if n["container"] == "running" else BAD),
                cell(n["swarm"], GOOD if n["swarm"] == "ready" else BAD),
                cell(n["availability"], GOOD if n["availability"] == "active" else WARN),
                yes_no(c.get("ipvs")),
                yes_no(c.get("esp")),
                yes_no(c.get("netem")),
            ]
        )
    return Grid(
        "nodes",
        ["node", "role", "address", "container", "swarm", "availability", "IPVS", "ESP", "netem"],
        rows,
        id="nodes",
    )


def _networks(st: Dict[str, Any]) -> Grid:
    return Grid(
        "networks",
        ["network", "driver", "subnet", "VXLAN id", "encrypted", "why"],
        [
            [
                cell(n["name"], key=n["name"]),
                cell(n["driver"]),
                cell(n["subnet"]),
                cell(n["vxlan_id"]),
                cell("yes" if n["encrypted"] else "no", GOOD if n["encrypted"] else WARN),
                cell(n["why"]),
            ]
            for n in st["networks"]
        ],
        id="networks",
    )


def _services(st: Dict[str, Any]) -> Grid:
    rows = []
    for s in st["services"]:
        have, _, want = str(s["replicas"]).partition("/")
        tasks = (
            "; ".join(f"{short_task(t['task'])} on {t['node']} ({t['state']})" for t in s["tasks"]) or "none running"
        )
        rows.append(
            [
                cell(s["name"], key=s["name"]),
                cell(s.get("image", "")),
                cell(s["replicas"], GOOD if have == want else BAD),
                cell(s["endpoint_mode"]),
                cell(", ".join(s["ports"]) or "internal only"),
                cell(", ".join(s.get("networks", []))),
                cell(tasks),
            ]
        )
    return Grid(
        "services", ["service", "image", "replicas", "endpoint", "ports", "networks", "tasks"], rows, id="services"
    )


def _checks(checks: List[Dict[str, Any]], title: str, id_: str) -> Grid:
    return Grid(
        title,
        ["check", "status", "expected", "observed"],
        [
            [
                cell(c["name"], key=c["name"]),
                cell(c["status"], status_tone(c["status"])),
                cell(c["expected"]),
                cell(c["observed"]),
            ]
            for c in checks
        ],
        id=id_,
    )


def matrix_tone(state: str) -> str:
    return GOOD if state == "ok" else ("" if state in ("blocked", "", "-") else BAD)


def verify_section(kept: Dict[str, Any], pcaps: List[str]) -> Section:
    doc = kept.get("verify")
    if not doc:
        return Section("verify", "verify", ["not run on this lab yet: `swarmlab verify` proves its traffic"])
    v = doc["data"] or {}
    if not v.get("checks"):
        return Section(
            "verify",
            "verify",
            [f"the last verify, at {_when(doc)}, stopped: " + "; ".join(doc.get("errors", []))],
            tone=BAD,
        )
    counts = {s: sum(c["status"] == s for c in v["checks"]) for s in ("passed", "failed", "unsupported")}
    sec = Section("verify", "verify", tone=GOOD if v["passed"] else BAD)
    sec.lines.append(
        f"{'passed' if v['passed'] else 'FAILED'} at {_when(doc)} in {v['seconds']} s: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['unsupported']} not possible here"
    )
    m = v.get("matrix") or {}
    if m.get("cells"):
        sec.parts.append(
            Grid(
                "reachability, from row to column (ok: connects; blocked: isolated, as it should be)",
                ["from \\ to", *m["columns"]],
                [
                    [
                        cell(r, key=r),
                        *[
                            cell(m["cells"].get(f"{r}->{c}", "-"), matrix_tone(m["cells"].get(f"{r}->{c}", "")))
                            for c in m["columns"]
                        ],
                    ]
                    for r in m["rows"]
                ],
                id="matrix",
            )
        )
    wire = [c for c in v["checks"] if c["name"].startswith(("wire", "mtu"))]
    if wire:
        sec.parts.append(_checks(wire, "on the wire: what a capture on the underlay saw, and the path MTU", "wire"))
    sec.parts.append(_checks(v["checks"], "every check, with what was observed", "checks"))
    if pcaps:
        sec.parts.append(Links("packet captures (open in Wireshark)", [{"text": p, "href": p} for p in pcaps]))
    elif not v.get("capture_dir"):
        sec.lines.append("captures not kept: `verify --capture DIR` keeps them, and the report links them")
    return sec


def compare_section(kept: Dict[str, Any], draw: Drawn, parts: Parts) -> Optional[Section]:
    doc = kept.get("compare")
    if not doc or not (doc.get("data") or {}).get("variants"):
        return None

    data = doc["data"]
    cols, body = parts.compare_rows(data)
    sec = Section(
        "compare",
        "bridge and overlay compared",
        [f"measured at {_when(doc)} in {data.get('seconds', '?')} s; each cell measured in that run"],
    )
    svg = draw(lambda path: parts.compare_chart(data, path), "compare.svg")
    if svg:
        sec.parts.append(Figure("round trip and throughput per way", svg, "compare.svg"))
    sec.parts.append(
        Grid(
            "every point, every way",
            ["", *cols],
            [[cell(row, key=row), *[cell(c) for c in cells]] for row, cells in body],
            id="compare",
        )
    )
    return sec


def drill_section(kept: Dict[str, Any], draw: Drawn) -> Optional[Section]:
    runs = kept.get("drills") or []
    if not runs:
        return None
    sec = Section("drills", "drills", [f"the last {len(runs)} drill run(s) on this lab, latest first"])
    for i, doc in enumerate(reversed(runs), 1):
        d = doc.get("data") or {}
        if not d.get("timeline"):
            sec.lines.append(f"a drill at {_when(doc)} stopped: " + "; ".join(doc.get("errors", [])))
            continue
        s = d["score"]
        params = " ".join(f"{k}={v}" for k, v in d.get("params", {}).items())
        title = (
            f"{d['drill']} {params}: {d.get('title', '')} — {'passed' if d['passed'] else 'FAILED'}, "
            f"score {s['passed']}/{s['passed'] + s['failed']}, {d['seconds']} s, at {_when(doc)}"
        )
        svg = draw(functools.partial(charts.drill_timeline, d), f"drill-{i}.svg")
        if svg:
            sec.parts.append(Figure(title, svg, f"drill-{i}.svg", "what changed and when, by phase"))
        else:
            sec.lines.append(title)
        sec.parts.append(_checks(d["checks"], f"drill {d['drill']}: expectations", f"drill-{i}-checks"))
        sec.parts.append(
            Grid(
                f"drill {d['drill']}: timeline (seconds from the start)",
                ["t", "phase", "what", "now"],
                [[cell(f"{e['t']:.1f}"), cell(e["phase"]), cell(e["what"]), cell(e["now"])] for e in d["timeline"]],
                id=f"drill-{i}-timeline",
            )
        )
    return sec


def lessons_section(kept: Dict[str, Any]) -> Optional[Section]:
    doc = kept.get("lessons")
    rows = [r for r in ((doc or {}).get("data") or []) if r.get("lesson")]
    if not rows:
        return None
    return Section(
        "lessons",
        "lesson progress",
        [f"as read at {_when(doc)}"],
        [
            Grid(
                "per trainee",
                ["trainee", "lesson", "steps", "hints", "checks", "resets", "minutes", "solved"],
                [
                    [
                        cell(r.get("trainee"), key=r.get("trainee") or "-"),
                        cell(r["lesson"]),
                        cell(f"{len(r.get('passed') or [])}/{r.get('steps', 0)}"),
                        cell(r.get("hints")),
                        cell(r.get("checks")),
                        cell(r.get("resets")),
                        cell(r.get("minutes")),
                        cell("yes" if r.get("solved") else "no", GOOD if r.get("solved") else WARN),
                    ]
                    for r in rows
                ],
                id="lessons",
            )
        ],
    )


def build(
    lab: str,
    kept: Dict[str, Any],
    graph_svg: Optional[str],
    graph_why: str,
    pcaps: List[str],
    draw: Drawn,
    parts: Parts,
) -> List[Section]:
    out = [
        lab_section(lab, kept, graph_svg, graph_why),
        verify_section(kept, pcaps),
        compare_section(kept, draw, parts),
        drill_section(kept, draw),
        lessons_section(kept),
    ]
    return [s for s in out if s is not None]
