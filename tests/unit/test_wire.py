"""The wire verdicts on packets the test writes itself (the ESP branch cannot run on
this kernel): plain VXLAN with the canary, ESP without it, fail-closed, and leaks."""
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.utils import wrpcap

from swarmlab.observe.wire import summarise, verdict

CANARY = b"swarmlab-canary-0123456789abcdef"
VNI = 4098


def vxlan(vni, payload):
    inner = Ether() / IP(src="10.96.130.2", dst="10.96.130.4") / UDP(sport=5000, dport=9) / payload
    return Ether() / IP(src="10.96.0.11", dst="10.96.0.13") / UDP(sport=40000, dport=4789) / VXLAN(vni=vni) / inner


def esp(seq):
    return Ether() / IP(src="10.96.0.11", dst="10.96.0.13", proto=50) / ESP(spi=0x5741, seq=seq, data=bytes(range(64)))


@pytest.fixture
def pcap(tmp_path):
    def write(packets):
        path = tmp_path / "cap.pcap"
        wrpcap(str(path), packets)
        return str(path)
    return write


def test_plain_overlay_shows_vxlan_and_the_canary(pcap):
    s = summarise(pcap([vxlan(VNI, CANARY), vxlan(VNI, b"other"), vxlan(4097, b"x")]), CANARY)
    assert s.vxlan == {VNI: 2, 4097: 1} and s.canary_in_vxlan == {VNI: 1} and s.esp == 0
    r = verdict("backend", VNI, False, False, s)
    assert r.state == "passed" and "plaintext on the wire" in r.observed


def test_plain_overlay_without_the_canary_fails(pcap):
    r = verdict("backend", VNI, False, False, summarise(pcap([vxlan(4097, CANARY)]), CANARY))
    assert r.state == "failed"


def test_encrypted_overlay_with_esp_and_no_canary_passes(pcap):
    s = summarise(pcap([esp(1), esp(2)]), CANARY)
    assert s.esp == 2 and s.canary_anywhere == 0
    assert verdict("secure", VNI, True, True, s).state == "passed"


def test_encrypted_overlay_never_passes_without_esp_seen(pcap):
    r = verdict("secure", VNI, True, True, summarise(pcap([vxlan(5000, b"noise")]), CANARY))
    assert r.state == "failed"


def test_encrypted_overlay_leaking_the_canary_fails(pcap):
    r = verdict("secure", VNI, True, True, summarise(pcap([esp(1), vxlan(VNI, CANARY)]), CANARY))
    assert r.state == "failed"


def test_encrypted_without_esp_is_unsupported_when_fail_closed(pcap):
    r = verdict("secure", VNI, True, False, summarise(pcap([vxlan(4097, b"other net")]), CANARY))
    assert r.state == "unsupported" and "fail-closed confirmed" in r.observed


def test_encrypted_without_esp_that_leaks_cleartext_fails(pcap):
    r = verdict("secure", VNI, True, False, summarise(pcap([vxlan(VNI, CANARY)]), CANARY))
    assert r.state == "failed" and "cleartext left the node" in r.observed
