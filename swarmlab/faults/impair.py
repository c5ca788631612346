"""Link impairment on a node's egress, towards one peer or towards everyone.

With netem (the Vagrant VMs, most users' kernels): one netem qdisc does delay, jitter,
loss and rate. Without it (this machine's kernel): rate through a token bucket (tbf) and
loss through iptables' statistic match; delay and jitter cannot be made, and the drill
says so with the probe's reason. Towards one peer, the impairment sits in an htb class
and u32 filters send only the peer's addresses there."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..netfilter import drop_in, unhook
from ..result import CheckResult
from ..shell import sh
from .base import NODE, Fault

IMPAIR_CHAIN = "SWARMLAB-IMPAIR"  # one per node: loss without netem
IMPAIRMENTS = ("delay_ms", "jitter_ms", "loss_pct", "rate_kbit")


class Impair(Fault):
    kind = "impair"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node"],
        "properties": {
            "node": NODE,
            "peer": NODE,
            "delay_ms": {"type": "integer", "minimum": 1, "maximum": 10000},
            "jitter_ms": {"type": "integer", "minimum": 1, "maximum": 10000},
            "loss_pct": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
            "rate_kbit": {"type": "integer", "minimum": 8, "maximum": 10000000},
        },
    }
    names = ("node", "peer")

    @classmethod
    def problems(cls, params):
        yield from super().problems(params)
        if not any(k in params for k in IMPAIRMENTS):
            yield (), f"say what to impair: one or more of {', '.join(IMPAIRMENTS)}"
        if "jitter_ms" in params and "delay_ms" not in params:
            yield ("jitter_ms",), "jitter varies a delay: give delay_ms too"

    def targets(self) -> List[str]:
        """The peer's addresses (every address it has in the lab), or none: everyone."""
        if "peer" not in self.p:
            return []
        peer = self.ctx.hosts[self.p["peer"]]
        return sorted({peer.address, peer.swarm_addr, peer.data_addr})

    def _device(self) -> str:
        """The interface the node reaches its peer (or another node) through."""
        other = self.ctx.hosts.get(self.p.get("peer", "")) or next(
            h for n, h in sorted(self.ctx.hosts.items()) if n != self.node.name
        )
        r = self.node.transport.run(["ip", "-o", "route", "get", other.data_addr], timeout=15).check("route")
        m = re.search(r"\bdev (\S+)", r.stdout)
        if not m:
            raise RuntimeError(f"no route from {self.node.name} to {other.data_addr}: {r.stdout.strip()}")
        return m.group(1)

    def plan(self) -> Tuple[List[List[str]], bool, List[Tuple[str, str]]]:
        """(the qdiscs to add, whether loss goes through iptables, what cannot be done and why).
        Towards everyone: one root qdisc (netem, or tbf for rate). Towards one peer: an htb
        root whose default class is unlimited and whose peer class carries the rate (or a
        netem leaf), with u32 filters sending the peer's addresses there."""
        caps = self.ctx.probe()[self.node.name]
        p, peer = self.p, bool(self.targets())
        missing: List[Tuple[str, str]] = []
        if peer and not caps.htb:  # without classes, nothing can single out one peer but iptables
            why = f"no htb to single out {p['peer']}: {caps.reason('htb')}"
            missing += [(k, why) for k in ("delay_ms", "jitter_ms", "rate_kbit") if k in p]
            if "loss_pct" in p and not caps.statistic:
                missing.append(("loss_pct", f"{why}; and no iptables statistic match: {caps.reason('statistic')}"))
            return [], "loss_pct" in p and bool(caps.statistic), missing
        if caps.netem:
            words = [
                f"delay {p['delay_ms']}ms" if "delay_ms" in p else "",
                f"{p['jitter_ms']}ms" if "jitter_ms" in p else "",
                f"loss {p['loss_pct']}%" if "loss_pct" in p else "",
                f"rate {p['rate_kbit']}kbit" if "rate_kbit" in p else "",
            ]
            netem = ["netem", *" ".join(filter(None, words)).split()]
            return (self._classes(None, netem) if peer else [["root", "handle", "1:", *netem]]), False, []
        why = caps.reason("netem") or "no netem on this kernel"
        missing += [(k, why) for k in ("delay_ms", "jitter_ms") if k in p]
        qdiscs: List[List[str]] = []
        if "rate_kbit" in p and peer:
            qdiscs = self._classes(p["rate_kbit"], None)
        elif "rate_kbit" in p and caps.tbf:
            burst = max(4096, p["rate_kbit"] * 1000 // 8 // 100)  # 10 ms of traffic, at least 4 KiB
            qdiscs = [
                [
                    "root",
                    "handle",
                    "1:",
                    "tbf",
                    "rate",
                    f"{p['rate_kbit']}kbit",
                    "burst",
                    str(burst),
                    "latency",
                    "400ms",
                ]
            ]
        elif "rate_kbit" in p:
            missing.append(("rate_kbit", f"{why}; and no tbf: {caps.reason('tbf')}"))
        if "loss_pct" in p and not caps.statistic:
            missing.append(("loss_pct", f"{why}; and no iptables statistic match: {caps.reason('statistic')}"))
        return qdiscs, "loss_pct" in p and bool(caps.statistic), missing

    @staticmethod
    def _classes(rate_kbit: Optional[int], leaf: Optional[List[str]]) -> List[List[str]]:
        """htb: class 1:10 (everything else, unlimited), class 1:20 (the peer: the rate, or a leaf)."""
        out = [
            ["root", "handle", "1:", "htb", "default", "10"],
            ["class", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit", "quantum", "60000"],
            [
                "class",
                "parent",
                "1:",
                "classid",
                "1:20",
                "htb",
                "rate",
                f"{rate_kbit}kbit" if rate_kbit else "10gbit",
                "quantum",
                "60000",
            ],
        ]
        return out + ([["leaf", "parent", "1:20", "handle", "20:", *leaf]] if leaf else [])

    def inject(self):
        qdiscs, by_iptables, missing = self.plan()
        dev, node = self._device(), self.node.name
        steps = [self._undo(dev)] + self._tc(dev, qdiscs)
        if by_iptables:
            prob = f"{self.p['loss_pct'] / 100:.4f}"
            drops = [
                (["-d", a] if a else None, "-m", "statistic", "--mode", "random", "--probability", prob, "-j", "DROP")
                for a in (self.targets() or [None])
            ]
            steps.append(drop_in(IMPAIR_CHAIN, drops, hooks=("OUTPUT",)))
        self.node.transport.run(steps[0] + "; " + " && ".join(steps[1:] or ["true"]), timeout=30).check("impair")
        towards = f"towards {self.p['peer']}" if "peer" in self.p else "towards every peer"
        done = [f"{k} {self.p[k]}" for k in IMPAIRMENTS if k in self.p and k not in dict(missing)]
        kinds = {w for q in qdiscs for w in q if w in ("netem", "tbf", "htb")}
        how = " + ".join(sorted(kinds) + (["iptables statistic"] if by_iptables else []))
        for key, why in missing:
            self.notes.append(
                CheckResult(
                    f"impair {node}: {key}",
                    False,
                    f"{key} {self.p[key]} on {node}'s egress",
                    f"not possible on this kernel: {why}",
                    status="unsupported",
                )
            )
        return (
            f"{node}'s egress {towards} impaired: {', '.join(done) or 'nothing it could do'}"
            + (f" ({how})" if how else "")
            + (f"; not possible here: {', '.join(k for k, _ in missing)}" if missing else "")
        )

    def _tc(self, dev: str, qdiscs: List[List[str]]) -> List[str]:
        out = []
        for q in qdiscs:
            if q[0] == "class":
                out.append(sh("tc", "class", "add", "dev", dev, q[1:]))
            else:
                out.append(sh("tc", "qdisc", "add", "dev", dev, q[1:] if q[0] == "leaf" else q))
        if qdiscs and self.targets():
            out += [
                sh(
                    "tc",
                    "filter",
                    "add",
                    "dev",
                    dev,
                    "parent",
                    "1:",
                    "protocol",
                    "ip",
                    "prio",
                    "1",
                    "u32",
                    "match",
                    "ip",
                    "dst",
                    f"{a}/32",
                    "flowid",
                    "1:20",
                )
                for a in self.targets()
            ]
        return out

    @staticmethod
    def _undo(dev: str) -> str:
        return sh("tc", "qdisc", "del", "dev", dev, "root") + " 2>/dev/null; " + unhook(IMPAIR_CHAIN)

    def clear(self):
        self.node.transport.run(self._undo(self._device()), timeout=30, warn=True)

    def heal(self):
        self.node.transport.run(self._undo(self._device()), timeout=30).check("heal impair")
        return f"{self.node.name}'s egress no longer impaired"
