"""What a capture shows: VXLAN (UDP 4789) frames of a network's VNI, whether a canary
string travelled in clear inside them, and ESP (IP protocol 50) between the nodes.
Decoding is scapy's; the verdicts are pure functions, tested on generated packets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

from ..result import CheckResult

VXLAN_PORT = 4789


@dataclass
class WireSummary:
    packets: int = 0
    vxlan: Dict[int, int] = field(default_factory=dict)  # vni -> frames
    canary_in_vxlan: Dict[int, int] = field(default_factory=dict)  # vni -> frames carrying it
    esp: int = 0
    canary_anywhere: int = 0


def summarise(pcap_path: str, canary: bytes) -> WireSummary:
    # here: scapy takes 0.2 s to import, and only a command that reads a capture needs it
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP
    from scapy.layers.vxlan import VXLAN
    from scapy.utils import rdpcap

    out = WireSummary()
    for pkt in rdpcap(pcap_path):
        out.packets += 1
        raw = bytes(pkt)
        if canary in raw:
            out.canary_anywhere += 1
        if IP not in pkt:
            continue
        if pkt[IP].proto == 50 or ESP in pkt:
            out.esp += 1
            continue
        if UDP in pkt and pkt[UDP].dport == VXLAN_PORT:
            udp = pkt[UDP]
            vx = udp[VXLAN] if VXLAN in udp else VXLAN(bytes(udp.payload))
            vni = int(vx.vni)
            out.vxlan[vni] = out.vxlan.get(vni, 0) + 1
            if canary in bytes(vx.payload):
                out.canary_in_vxlan[vni] = out.canary_in_vxlan.get(vni, 0) + 1
    return out


def verdict(
    network: str,
    vni: int,
    encrypted: bool,
    esp_capable: bool,
    summary: WireSummary,
    evidence: Optional[str] = None,
    reason: str = "",
) -> CheckResult:
    """The wire check for one network, from what was captured."""
    name = f"wire: {network}"
    seen = (
        f"{summary.packets} packets; VXLAN VNI {vni}: {summary.vxlan.get(vni, 0)} frames, "
        f"canary in {summary.canary_in_vxlan.get(vni, 0)}; ESP: {summary.esp}"
    )
    if not encrypted:
        ok = summary.vxlan.get(vni, 0) > 0 and summary.canary_in_vxlan.get(vni, 0) > 0
        expected = f"VXLAN on UDP {VXLAN_PORT} with VNI {vni}, the canary visible: plaintext on the wire"
        why = f" ({reason})" if reason else ""
        return CheckResult(name, ok, expected + why, seen + (" — plaintext on the wire" if ok else ""), evidence)
    if esp_capable:
        ok = summary.esp > 0 and summary.canary_anywhere == 0
        return CheckResult(name, ok, "ESP (IP protocol 50) between the nodes and the canary nowhere", seen, evidence)
    # encrypted, but the kernel has no ESP: Docker must drop the traffic (fail-closed)
    closed = summary.canary_anywhere == 0 and summary.vxlan.get(vni, 0) == 0
    if closed:
        return CheckResult(
            name,
            False,
            "ESP between the nodes",
            seen + "; no cleartext VXLAN left the node (fail-closed confirmed)",
            evidence,
            status="unsupported",
        )
    return CheckResult(
        name,
        False,
        "no cleartext VXLAN of an encrypted network without ESP (fail-closed)",
        seen + "; cleartext left the node",
        evidence,
    )
