"""`swarmlab compare`: the same stack on a raw veth pair, the default bridge, a user
bridge and the lab's overlays, measured point by point (nothing here is asserted)."""

from __future__ import annotations

import functools
import secrets
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import lab as labmod
from ..config.model import Scenario
from ..errors import LabNotFound, SwarmlabError
from ..observe.running import open_lab
from ..images import cache as image_cache
from ..progress import Say
from ..providers.base import Provider
from ..observe import topology
from ..observe.netns import forwarded_out
from ..observe import measure
from . import variants
from .variants import Variant

KINDS = ("raw", "bridges", "overlays")  # what `--only` chooses among


def run(
    lab: str,
    provider: Provider,
    scenario: Optional[Callable[[], Scenario]] = None,
    say: Say = lambda s: None,
    runs: int = 3,
    only: Sequence[str] = KINDS,
) -> Dict[str, Any]:
    """`scenario` gives the scenario to bring the lab up from when none runs (and is not
    called otherwise); without it a missing lab is LabNotFound. `only` names the kinds of
    variant to measure (KINDS)."""

    started = time.monotonic()
    if not provider.supports("compare"):
        raise provider.unsupported("compare (bridge and overlay variants side by side)")
    made = False
    try:
        handle = open_lab(lab, provider)
    except LabNotFound:
        if scenario is None:
            raise
        say(f"no lab {lab}: bringing it up for the comparison (and down again afterwards)")
        labmod.up(scenario(), provider, say=say)
        made = True
        handle = open_lab(lab, provider)
    node, loaded = None, []
    try:
        handle.need_leader()
        topo = topology.read(handle)
        node = topo.leader()
        images = _stack_images(handle)
        ids = {ref: provider.client.images.get(ref).id for ref in images.values()}
        variants.cleanup(node)  # what an interrupted run may have left
        # the bridge variants run all three images on one node, the outsider one of them:
        # what the node lacked goes again after
        if "bridges" in only:
            image, need = images["redis"], sorted(images.values())
        else:
            image = _outsider_image(node, images, ids)
            need = [image]
        loaded = image_cache.load_missing(node.transport, need, ids)
        chosen = _choose(lab, handle.caps, topo, node, images, image, set(only), say)
        results = []
        for v in chosen:
            if v.why_not:
                results.append(
                    {"key": v.key, "title": v.title, "kind": v.kind, "measured": False, "why_not": v.why_not}
                )
                continue
            client, server = v.ends()
            say(f"facts of {v.title}: {client.label} -> {server.label}")
            results.append(_facts(v))
        _timings([v for v in chosen if not v.why_not], [r for r in results if r["measured"]], runs, say)
        _ratios(results)
    finally:
        if node is not None:
            variants.cleanup(node)
            if loaded:
                node.transport.run(["docker", "image", "rm", loaded], warn=True, timeout=120)
        if made:
            say(f"removing lab {lab} (compare brought it up)")
            labmod.down(lab, provider, say)
    return {
        "lab": lab,
        "made_lab": made,
        "variants": results,
        "failed": failures(results),
        "seconds": round(time.monotonic() - started, 1),
        "only": [k for k in KINDS if k in only],
        "bounds": {
            "rtt_exchanges": measure.RTT_COUNT,
            "rtt_rounds": measure.RTT_ROUNDS,
            "rtt_seconds": measure.RTT_SECONDS,
            "iperf_runs": runs,
            "iperf_seconds": measure.IPERF_SECONDS,
            "http_requests": measure.HTTP_COUNT,
            "http_seconds": measure.HTTP_SECONDS,
        },
    }


def _choose(lab, caps, topo, node, images, outsider_image: str, want, say: Say) -> List[Variant]:
    """The variants of the kinds wanted, in KINDS order, and one outsider for every
    bridge and overlay column (a container on a bridge of its own on the leader)."""
    chosen: List[Variant] = []
    if "raw" in want:
        say(f"raw: a veth pair between two namespaces on {node.name}")
        chosen.append(variants.raw(node))
    if "bridges" in want:
        say(f"bridges: web, db, redis on {node.name}'s default bridge and on a user bridge")
        chosen += variants.bridges(node, lab, images)
    if "overlays" in want:
        no_esp = sorted(c.host for c in caps.values() if not c.esp)
        chosen += variants.overlays(topo, not no_esp, no_esp)
    if any(v.kind != "raw" and not v.why_not for v in chosen):
        outsider = variants.outsider(node, lab, outsider_image)
        for v in chosen:
            if v.kind != "raw":
                v.outsider = outsider
    return chosen


def _outsider_image(node, images: Dict[str, str], ids: Dict[str, str]) -> str:
    """One of the stack's images for the outsider: one the node has already, else redis
    (the smallest) to load."""
    refs = [images[k] for k in ("redis", "web", "db")]
    lacking = set(image_cache.lacking(node.transport, refs, ids))
    return next((r for r in refs if r not in lacking), images["redis"])


def failures(results: List[Dict[str, Any]]) -> List[str]:
    """Each measurement a measured variant did not get, with its error: compare exits 1 on any."""
    out = []
    for r in results:
        for what in ("rtt", "throughput", "http", "wire"):
            err = (r.get(what) or {}).get("error") if r.get("measured") else None
            if err:
                out.append(f"{r['title']}: {what}: {err}")
    return out


def _stack_images(handle) -> Dict[str, str]:
    """short service name -> image, for web, db and redis (the stack compare runs again)."""
    out = {svc.short: svc.image for svc in handle.swarm.services()}
    missing = {"web", "db", "redis"} - set(out)
    if missing:
        raise SwarmlabError(
            f"compare runs the web/db/redis stack; this lab has no {', '.join(sorted(missing))}",
            hint="use a lab made from scenarios/default.yaml",
        )
    return out


def _isolation(v: Variant) -> Dict[str, Any]:
    """The outsider (a namespace not on the variant's network) tries the server's address.
    An overlay address it could only reach through its node's uplink (a VM's NAT, a
    server's router) is not tried: that probe would leave the machine and prove nothing."""
    server, outsider = v.server, v.outsider
    if server is None or outsider is None:
        raise ValueError(f"{v.key} has no server or no outsider")
    out = {"path": f"{outsider.label} -> {server.ip}:{v.internal_port}"}
    if v.kind == "overlay":
        away = forwarded_out(outsider.host, lambda cmd: outsider.run(cmd, timeout=15), server.ip, timeout=15)
        if away:
            return {**out, "connects": False, "not_sent": away}
    return {**out, "connects": measure.connects(outsider, server.ip, v.internal_port)}


def _facts(v: Variant) -> Dict[str, Any]:
    """What each variant shows without timing: names, isolation, ports, path."""
    client, server = v.ends()
    out: Dict[str, Any] = {
        "key": v.key,
        "title": v.title,
        "kind": v.kind,
        "measured": True,
        "client": client.label,
        "server": server.label,
        "server_ip": server.ip,
        **v.facts,
    }
    host = client.host
    if v.kind != "raw":
        r = host.transport.run(
            ["docker", "exec", v.client_container, "getent", "hosts", v.server_name], timeout=20, warn=True
        )
        answer = r.stdout.split()[0] if r.ok and r.stdout.split() else ""
        out["resolution"] = {
            "lookup": f"getent hosts {v.server_name} (in {client.label})",
            "answer": answer,
            "resolves": bool(answer),
        }
    if v.internal_port:
        out["allowed"] = {
            "path": f"{client.label} -> {server.ip}:{v.internal_port}",
            "connects": measure.connects(client, server.ip, v.internal_port),
        }
        if v.outsider is not None:
            out["isolation"] = _isolation(v)
    if v.url:
        root = measure.Place(host, "", f"{host.name} itself")
        addr = v.url.split("//")[1].split("/")[0]
        ip, port = addr.split(":")
        out["ports"] = {
            "published": {"where": addr, "answers": measure.connects(root, ip, int(port))},
            "internal_on_node": {
                "where": f"{server.host.address}:{v.internal_port}",
                "answers": measure.connects(root, server.host.address, v.internal_port),
            },
            "server_ip_from_its_node": {
                "where": f"{server.host.name} -> {server.ip}:{v.internal_port}",
                "answers": measure.connects(
                    measure.Place(server.host, "", server.host.name), server.ip, v.internal_port
                ),
            },
        }
    out["path"] = measure.describe_path(host, measure.link_of(client), v.kind)
    return out


def _timings(chosen: List[Variant], results: List[Dict[str, Any]], runs: int, say: Say) -> None:
    """Latency and throughput, in rounds that visit every variant in turn, so that a
    burst of load on this machine falls on all of them rather than on one."""
    rtt: Dict[str, list] = {v.key: [] for v in chosen}
    thr: Dict[str, list] = {v.key: [] for v in chosen}
    err: Dict[str, str] = {}
    for i in range(measure.RTT_ROUNDS):
        say(
            f"round trips, round {i + 1}/{measure.RTT_ROUNDS}" + (" (with a capture of the underlay)" if i == 0 else "")
        )
        for v, r in zip(chosen, results):
            marker = f"swlcmp{secrets.token_hex(5)}"
            if i == 0:  # what leaves the node, captured while the first round runs
                got, wire, werr = measure.capture_during(
                    v.ends()[0].host, functools.partial(measure.rtt_samples, *v.ends(), marker), marker
                )
                # only frames carrying this exchange's marker count: health checks cross too
                r["wire"] = (
                    {
                        "packets_on_underlay": wire.packets,
                        "marker_frames": wire.canary_anywhere,
                        "vxlan_frames": sum(wire.canary_in_vxlan.values()),
                        "vnis": sorted(k for k, n in wire.canary_in_vxlan.items() if n),
                        "esp_packets": wire.esp,
                        "payload_in_clear": wire.canary_anywhere > 0,
                    }
                    if wire
                    else {"error": werr}
                )
            else:
                got = measure.rtt_samples(*v.ends(), marker)
            if isinstance(got, str):
                err[v.key] = got
            else:
                rtt[v.key] += got
    for i in range(runs):
        say(f"throughput (iperf3), round {i + 1}/{runs}")
        for v in chosen:
            for _attempt in range(2):  # one more try for a run that failed (its error is kept)
                got = measure.iperf_once(*v.ends())
                if not isinstance(got, str):
                    thr[v.key].append(got)
                    break
                err[v.key + "/iperf"] = got
    for v, r in zip(chosen, results):
        r["rtt"] = measure.rtt_summary(rtt[v.key], measure.RTT_ROUNDS, err.get(v.key, ""), *v.ends())
        r["throughput"] = measure.throughput_summary(thr[v.key], err.get(v.key + "/iperf", ""), *v.ends())
        if err.get(v.key + "/iperf") and thr[v.key]:
            r["throughput"]["retried_after"] = err[v.key + "/iperf"]
        if v.url:
            say(f"HTTP through web: {v.title}")
            r["http"] = measure.http_latency(v.ends()[0].host, v.url)


def _ratios(results: List[Dict[str, Any]]) -> None:
    """Overhead of each variant against the user bridge and against the raw veth pair; an
    encrypted overlay also against the first plain overlay measured (what encryption costs)."""
    ref = {r["key"]: r for r in results if r.get("measured")}
    plain = next((r for r in results if r.get("measured") and r["kind"] == "overlay" and not r.get("encrypted")), None)

    def num(r, what):
        if what == "rtt":
            return (r.get("rtt") or {}).get("p50_us")
        return (r.get("throughput") or {}).get("median_gbps")

    for r in results:
        if not r.get("measured"):
            continue
        r["ratios"] = {}
        bases = [(base, ref.get(base)) for base in ("raw", "user-bridge")]
        if plain is not None and r.get("encrypted"):
            bases.append(("plain-overlay", plain))
        for base, b in bases:
            if not b:
                continue
            rt, brt = num(r, "rtt"), num(b, "rtt")
            tp, btp = num(r, "tp"), num(b, "tp")
            r["ratios"][base] = {
                "rtt_p50": round(rt / brt, 2) if rt and brt else None,
                "throughput": round(tp / btp, 2) if tp and btp else None,
            }
