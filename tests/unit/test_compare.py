"""compare's pure logic: percentiles, overhead ratios, which overlay columns exist and
why one is not measured, and the report built from recorded results."""
from swarmlab.compare import _ratios, failures, report, variants
from swarmlab.observe.measure import percentile
from swarmlab.providers.base import Host
from swarmlab.observe.topology import Network, Service, Task, Topology


def test_percentile():
    xs = [float(i) for i in range(1, 101)]
    assert percentile(xs, 50) == 51.0 and percentile(xs, 99) == 99.0 and percentile([], 50) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def _result(key, p50, gbps):
    return {"key": key, "title": key, "kind": "x", "measured": True, "rtt": {"p50_us": p50}, "throughput": {"median_gbps": gbps}}


def test_ratios_against_user_bridge_and_raw():
    rs = [_result("raw", 10.0, 20.0), _result("user-bridge", 20.0, 10.0), _result("overlay-backend", 40.0, 5.0),
          {"key": "overlay-encrypted", "measured": False, "why_not": "no ESP"}]
    _ratios(rs)
    assert rs[2]["ratios"] == {"raw": {"rtt_p50": 4.0, "throughput": 0.25},
                               "user-bridge": {"rtt_p50": 2.0, "throughput": 0.5}}
    assert rs[0]["ratios"]["raw"] == {"rtt_p50": 1.0, "throughput": 1.0}
    assert "ratios" not in rs[3]


def test_an_encrypted_overlay_is_also_measured_against_the_plain_overlay():
    plain = {**_result("overlay-frontend", 40.0, 5.0), "kind": "overlay", "encrypted": False}
    enc = {**_result("overlay-backend", 100.0, 1.0), "kind": "overlay", "encrypted": True}
    rs = [_result("raw", 10.0, 20.0), plain, enc]
    _ratios(rs)
    assert enc["ratios"]["plain-overlay"] == {"rtt_p50": 2.5, "throughput": 0.2}
    assert "plain-overlay" not in plain["ratios"]
    row = "vs plain overlay (RTT, thr.)"
    assert row in report.ROWS
    assert [report._cell(v, row) for v in rs] == ["—", "—", "x2.5, x0.2"]


def _topo(encrypted_backend=False):
    class T:
        def run(self, *a, **k):
            raise AssertionError("pure test: no commands")

    hosts = {n: Host(n, f"10.0.0.{i}", "manager" if i == 1 else "worker", T()) for i, n in enumerate(["node-1", "node-3"], 1)}
    web = Service("app_web", "web", ["frontend", "backend"], "dnsrr",
                  [{"published": 8080, "target": 8000, "protocol": "tcp", "mode": "host"}], [8000], 1,
                  [Task("app_web.1.x", "app_web", "node-1", {"frontend": "10.1.1.2", "backend": "10.1.2.2"})])
    db = Service("app_db", "db", ["backend"], "dnsrr", [], [5432], 1,
                 [Task("app_db.1.y", "app_db", "node-3", {"backend": "10.1.2.3"})])
    nets = {"frontend": Network("frontend", 4097, False, "false", "", "10.1.1.0/24"),
            "backend": Network("backend", 4098, encrypted_backend, "auto", "", "10.1.2.0/24")}
    return Topology("lab", "app", hosts, {"app_web": web, "app_db": db}, nets, [])


def test_every_measurement_a_variant_did_not_get_is_a_failure_and_a_variant_not_measured_is_not():
    rs = [_result("raw", 10.0, 20.0),
          {**_result("user-bridge", 20.0, 0), "throughput": {"error": "iperf3: unable to connect to server"}},
          {**_result("overlay-backend", 0, 5.0), "rtt": {"error": "no round trip measured"},
           "wire": {"error": "tcpdump: eth9: No such device"}},
          {"key": "overlay-encrypted", "title": "encrypted", "measured": False, "why_not": "no ESP"}]
    assert failures(rs) == ["user-bridge: throughput: iperf3: unable to connect to server",
                            "overlay-backend: rtt: no round trip measured",
                            "overlay-backend: wire: tcpdump: eth9: No such device"]
    assert failures(rs[:1]) == []


def test_overlay_columns_follow_the_networks_and_say_why_not():
    vs = {v.key: v for v in variants.overlays(_topo(), False, ["node-1", "node-3"])}
    back = vs["overlay-backend"]
    assert back.client.label == "app_web.1 on node-1" and back.server.ip == "10.1.2.3" and back.server_name == "db"
    assert back.url == "http://10.0.0.1:8080/?cache=skip" and back.internal_port == 5432
    assert vs["overlay-frontend"].why_not.startswith("no two tasks on different nodes")
    assert "no IPsec ESP on node-1, node-3" in vs["overlay-encrypted"].why_not
    vs = {v.key: v for v in variants.overlays(_topo(), True, [])}
    assert "none of the lab's networks is encrypted" in vs["overlay-encrypted"].why_not
    vs = {v.key: v for v in variants.overlays(_topo(encrypted_backend=True), True, [])}
    assert "overlay-encrypted" not in vs and vs["overlay-backend"].title == "overlay backend (encrypted)"


RECORDED = {
    "lab": "lab", "seconds": 80.0, "bounds": {"rtt_exchanges": 2000},
    "variants": [
        {"key": "default-bridge", "title": "default bridge", "kind": "bridge", "measured": True,
         "resolution": {"lookup": "getent hosts db (in web)", "answer": "", "resolves": False},
         "allowed": {"connects": True}, "isolation": {"connects": False},
         "ports": {"published": {"where": "10.96.0.11:8081", "answers": True},
                   "internal_on_node": {"where": "10.96.0.11:5432", "answers": False},
                   "server_ip_from_its_node": {"where": "node-1 -> 10.96.4.2:5432", "answers": True}},
         "path": {"hops": ["eth0 (veth, MTU 1500)", "veth -> docker0 (bridge on node-1)"], "mtu": "1500"},
         "wire": {"packets_on_underlay": 0, "vxlan_frames": 0, "vnis": [], "esp_packets": 0, "payload_in_clear": False},
         "rtt": {"p50_us": 40.0, "p99_us": 90.0, "command": "python3 ..."},
         "throughput": {"median_gbps": 9.5, "command": "iperf3 -c ..."},
         "http": {"p50_ms": 4.0, "p99_ms": 9.0}},
        {"key": "overlay-backend", "title": "overlay backend (plain)", "kind": "overlay", "measured": True,
         "resolution": {"lookup": "getent hosts db (in web)", "answer": "10.96.130.5", "resolves": True},
         "path": {"hops": ["eth0 (veth, MTU 1450)"], "mtu": "1450"},
         "wire": {"packets_on_underlay": 900, "marker_frames": 900, "vxlan_frames": 900, "vnis": [4098], "esp_packets": 0,
                  "payload_in_clear": True},
         "rtt": {"p50_us": 90.0, "p99_us": 200.0}, "throughput": {"median_gbps": 3.0},
         "ratios": {"raw": {"rtt_p50": 4.5, "throughput": 0.2}}},
        {"key": "overlay-encrypted", "title": "overlay (encrypted)", "kind": "overlay", "measured": False,
         "why_not": "no IPsec ESP on node-1"},
    ]}


def test_report_rows_from_recorded_results():
    cols, body = report.rows(RECORDED)
    assert cols == ["default bridge", "overlay backend (plain)", "overlay (encrypted)"]
    cell = dict(body)
    assert cell["name resolution"][:2] == ["no: no answer", "yes: db -> 10.96.130.5"]
    assert cell["name resolution"][2] == "not measured: no IPsec ESP on node-1"
    assert cell["on the underlay"][:2] == ["nothing of it left the node",
                                           "VXLAN VNI 4098: 900 frames, payload in clear"]
    assert cell["isolation"][0] == "outsider blocked" and cell["published port"][0] == "10.96.0.11:8081 answers"
    assert cell["TCP RTT p50 / p99"][:2] == ["40.0 / 90.0 µs", "90.0 / 200.0 µs"]
    assert cell["vs raw veth (RTT, thr.)"][1] == "x4.5, x0.2"


def test_report_files_with_chart_and_commands(tmp_path):
    paths = report.write(RECORDED, str(tmp_path))
    md = (tmp_path / "report.md").read_text()
    assert "![latency and throughput per variant](chart.svg)" in md and "iperf3 -c ..." in md
    assert "| name resolution | no: no answer | yes: db -> 10.96.130.5 |" in md
    assert (tmp_path / "chart.svg").read_text().lstrip().startswith("<?xml")
    assert "<table>" in (tmp_path / "report.html").read_text() and set(paths) == {"markdown", "html", "chart"}
