"""What a node's kernel offers the lab (IPVS, IPsec ESP, link impairment), and what follows from it.

The probe is a shell script (images/context/node/probe-capabilities.sh, also the node
image's swarmlab-probe); it really tries: /proc/net/ip_vs for IPVS, and a throwaway xfrm
state with rfc4106(gcm(aes)) in a throwaway network namespace for ESP. It is sent whole
as the command, so a host reached over SSH needs nothing of ours installed."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from .transport.group import HostGroup

PROBE_SCRIPT = Path(__file__).parent / "images" / "context" / "node" / "probe-capabilities.sh"
PROBE_CMD = "sh -c " + shlex.quote(PROBE_SCRIPT.read_text())


@dataclass(frozen=True)
class Capabilities:
    """What one host's kernel offers (reasons: what is missing, and why, by feature)."""

    host: str
    ipvs: bool
    esp: bool
    kernel: str = ""
    reasons: Tuple[Tuple[str, str], ...] = ()
    netem: bool = False  # tc's netem: delay, jitter, loss and rate in one qdisc
    tbf: bool = False  # a token bucket: rate without netem
    htb: bool = False  # classes: an impairment towards one peer only
    statistic: bool = False  # iptables' statistic match: random loss without netem

    def reason(self, what: str) -> str:
        return dict(self.reasons).get(what, "")

    def as_dict(self) -> Dict[str, object]:
        return {
            "host": self.host,
            "ipvs": self.ipvs,
            "esp": self.esp,
            "netem": self.netem,
            "tbf": self.tbf,
            "htb": self.htb,
            "statistic": self.statistic,
            "kernel": self.kernel,
            "reasons": dict(self.reasons),
        }


def parse_probe(host: str, text: str) -> Capabilities:
    """Parse swarmlab-probe's key=value lines. A missing answer counts as 'no'."""
    kv: Dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            kv[k.strip()] = v.strip()
    reasons = tuple((k[:-7], v) for k, v in sorted(kv.items()) if k.endswith("_reason"))
    yes = {k for k, v in kv.items() if v == "yes"}
    return Capabilities(
        host,
        "ipvs" in yes,
        "esp" in yes,
        kv.get("kernel", ""),
        reasons,
        netem="netem" in yes,
        tbf="tbf" in yes,
        htb="htb" in yes,
        statistic="statistic" in yes,
    )


@dataclass(frozen=True)
class EncryptionDecision:
    network: str
    requested: str  # auto / true / false
    encrypted: bool
    reason: str
    warning: Optional[str] = None
    refused: Optional[str] = None  # set when `up` must stop before creating anything


def decide_encryption(
    network: str, requested: str, caps: Sequence[Capabilities], force: bool = False
) -> EncryptionDecision:
    """auto: encrypt only where every node has ESP, else plain with a warning.
    true: refuse without ESP on every node (naming the nodes), unless force."""
    lacking = sorted(c.host for c in caps if not c.esp)
    if requested == "false":
        return EncryptionDecision(network, requested, False, "not requested: plain VXLAN")
    if not lacking:
        return EncryptionDecision(network, requested, True, "IPsec ESP (rfc4106(gcm(aes))) on every node")
    why = f"no IPsec ESP on {', '.join(lacking)}"
    if requested == "auto":
        return EncryptionDecision(
            network,
            requested,
            False,
            f"encrypted: auto, left plain: {why}",
            warning=(
                f"network {network}: encrypted: auto, created PLAIN because of {why} "
                "(its traffic is cleartext VXLAN on the wire)"
            ),
        )
    if force:
        return EncryptionDecision(
            network,
            requested,
            True,
            f"encrypted: true forced although {why}",
            warning=(
                f"network {network}: encrypted with --force although {why}: Docker drops all its "
                "traffic there (fail-closed); tasks on it cannot talk across hosts"
            ),
        )
    return EncryptionDecision(
        network,
        requested,
        False,
        why,
        refused=(
            f"network {network} asks for encrypted: true but {why}; encrypted overlays carry "
            "nothing on such a kernel. Use encrypted: auto, or --force to create it anyway"
        ),
    )


def endpoint_note(caps: Sequence[Capabilities]) -> Optional[str]:
    lacking = sorted(c.host for c in caps if not c.ipvs)
    if not lacking:
        return None
    return (
        f"no IPVS on {', '.join(lacking)}: services use endpoint_mode dnsrr and host-mode ports "
        "(no VIP, no ingress routing mesh); a published port answers only on nodes running the task"
    )


def probe_hosts(hosts, strict: bool = False) -> Dict[str, Capabilities]:
    """node -> what its kernel offers, probed for real on every host at once.
    strict: a host whose probe fails is an error (else it is left out)."""
    res = HostGroup([h.transport for h in hosts]).run(PROBE_CMD, timeout=60)
    if strict:
        res.check("capability probe")
    return {name: parse_probe(name, r.stdout) for name, r in sorted(res.results.items()) if r.ok}
