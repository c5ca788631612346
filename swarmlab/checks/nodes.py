"""Checks a drill asks the nodes themselves, between their data addresses: a ping that gets
through or not, many pings with loss and round trip within bounds (what an impairment
shows), and one iperf3 run within bounds."""

from __future__ import annotations

import re

from ..observe.measure import Place, iperf_once
from .base import STR, Check, Seen


class Ping(Check):
    """A ping from one node to another's data address gets through (open) or not."""

    kind = "ping"
    params = {"from": STR, "to": STR, "open": {"type": "boolean"}}
    required = ("from", "to")
    active = True

    def name(self):
        return f"{self.p['from']} -> {self.p['to']} " + ("open" if self.p.get("open", True) else "cut")

    def expected(self):
        return f"{self.p['from']} " + ("reaches" if self.p.get("open", True) else "cannot reach") + f" {self.p['to']}"

    def judge(self, snap) -> Seen:
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        r = src.transport.run(["ping", "-c", 2, "-W", 1, "-i", 0.2, dst.data_addr], timeout=15, warn=True)
        got = [ln.strip() for ln in r.stdout.splitlines() if "packet loss" in ln]
        said = got[0] if got else r.stderr.strip()[-120:]
        return r.ok == self.p.get("open", True), f"ping {dst.data_addr}: {said}"


class Path(Check):
    """Many pings from one node to another: loss and round trip within bounds (what an
    impairment shows). A measure, so a bound that is missed is a failure with the figures."""

    kind = "path"
    params = {
        "from": STR,
        "to": STR,
        "count": {"type": "integer", "minimum": 5, "maximum": 200},
        "loss_pct_min": {"type": "number", "minimum": 0, "maximum": 100},
        "loss_pct_max": {"type": "number", "minimum": 0, "maximum": 100},
        "rtt_ms_min": {"type": "number", "minimum": 0},
    }
    required = ("from", "to")
    active = True

    def name(self):
        return f"path {self.p['from']} -> {self.p['to']}"

    def expected(self):
        bounds = [
            f"loss >= {self.p['loss_pct_min']}%" if "loss_pct_min" in self.p else "",
            f"loss <= {self.p['loss_pct_max']}%" if "loss_pct_max" in self.p else "",
            f"rtt >= {self.p['rtt_ms_min']} ms" if "rtt_ms_min" in self.p else "",
        ]
        return ", ".join(filter(None, bounds)) or "measured"

    def judge(self, snap) -> Seen:
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        n = self.p.get("count", 40)
        r = src.transport.run(
            ["ping", "-q", "-n", "-c", n, "-i", 0.05, "-W", 1, dst.data_addr], timeout=n * 0.05 + 20, warn=True
        )
        loss = re.search(r"([\d.]+)% packet loss", r.stdout)
        rtt = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
        if not loss:
            return False, f"ping gave no summary: {(r.stderr or r.stdout).strip()[-120:]}"
        lost, avg = float(loss.group(1)), float(rtt.group(1)) if rtt else None
        # a delay the step's impairment could not make (no netem here) is not judged, and that is said
        no_delay = any(n.name.endswith(": delay_ms") for n in getattr(self.fault, "notes", ()))
        ok = (
            lost >= self.p.get("loss_pct_min", 0)
            and lost <= self.p.get("loss_pct_max", 100)
            and (no_delay or (avg or 0) >= self.p.get("rtt_ms_min", 0))
        )
        return ok, f"{n} pings: {lost:g}% lost" + (f", rtt avg {avg:g} ms" if avg is not None else "") + (
            " (the rtt bound is not judged: the delay was not possible here)"
            if no_delay and "rtt_ms_min" in self.p
            else ""
        )


class Throughput(Check):
    """One iperf3 run (TCP, 2 s) from one node to another's data address: within bounds."""

    kind = "throughput"
    params = {
        "from": STR,
        "to": STR,
        "kbit_max": {"type": "number", "minimum": 1},
        "kbit_min": {"type": "number", "minimum": 0},
    }
    required = ("from", "to")
    active = True

    def name(self):
        return f"throughput {self.p['from']} -> {self.p['to']}"

    def expected(self):
        bounds = [
            f">= {self.p['kbit_min']:g} kbit/s" if "kbit_min" in self.p else "",
            f"<= {self.p['kbit_max']:g} kbit/s" if "kbit_max" in self.p else "",
        ]
        return ", ".join(filter(None, bounds)) or "measured"

    def judge(self, snap) -> Seen:
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        got = iperf_once(Place(src, "", src.name, src.data_addr), Place(dst, "", dst.name, dst.data_addr))
        if isinstance(got, str):
            return False, f"iperf3 gave no figure: {got}"
        kbit = got * 1e6
        ok = self.p.get("kbit_min", 0) <= kbit <= self.p.get("kbit_max", float("inf"))
        return ok, f"{kbit:,.0f} kbit/s (iperf3, TCP, 2 s)"
