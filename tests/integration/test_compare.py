"""`swarmlab compare` on a real lab it brings up itself (and takes down again): the
measured facts differ as the networks say they must, and the numbers are real."""
import pytest

from ..conftest import P, labelled, run_json

pytestmark = pytest.mark.integration
LAB = f"{P}-cmp"


@pytest.fixture(scope="module")
def compared(engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    proc, doc = run_json("compare", LAB, "--report", str(out), timeout=600)
    assert proc.returncode == 0, proc.stderr
    return doc["data"], out


def test_name_resolution_differs_as_the_networks_say(compared):
    data, _ = compared
    v = {x["key"]: x for x in data["variants"]}
    assert v["default-bridge"]["resolution"]["resolves"] is False      # no embedded DNS on docker0
    assert v["user-bridge"]["resolution"]["resolves"] is True
    back = v["overlay-backend"]
    assert back["resolution"]["resolves"] is True and back["resolution"]["answer"] == back["server_ip"]
    assert back["client_node"] != back["server_node"], "the overlay pair must cross hosts"


def test_paths_isolation_and_ports(compared):
    data, _ = compared
    v = {x["key"]: x for x in data["variants"]}
    for key in ("default-bridge", "user-bridge", "overlay-backend"):
        assert v[key]["allowed"]["connects"] is True, key
        assert v[key]["isolation"]["connects"] is False, key
        assert v[key]["ports"]["published"]["answers"] is True, key
        assert v[key]["ports"]["internal_on_node"]["answers"] is False, key
    # the host owns a bridge, so it reaches a container's own address; an overlay's it does not
    assert v["user-bridge"]["ports"]["server_ip_from_its_node"]["answers"] is True
    assert v["overlay-backend"]["ports"]["server_ip_from_its_node"]["answers"] is False
    assert v["overlay-backend"]["path"]["mtu"] == "1450" and v["user-bridge"]["path"]["mtu"] == "1500"
    # what left the node: VXLAN with the backend's VNI for the overlay, nothing for a bridge
    assert v["overlay-backend"]["wire"]["vxlan_frames"] > 0
    assert v["overlay-backend"]["wire"]["vnis"] == [v["overlay-backend"]["vni"]]
    # (other traffic, health checks across hosts, may cross the underlay meanwhile: only
    # frames carrying this exchange's marker count)
    for key in ("raw", "default-bridge", "user-bridge"):
        assert v[key]["wire"]["marker_frames"] == 0 and v[key]["wire"]["vxlan_frames"] == 0, key
    assert v["overlay-backend"]["wire"]["marker_frames"] > 0
    if not v["overlay-backend"]["encrypted"]:
        assert v["overlay-backend"]["wire"]["payload_in_clear"] is True


def test_numbers_are_real_and_the_raw_path_is_fastest(compared):
    data, _ = compared
    measured = [x for x in data["variants"] if x["measured"]]
    assert {x["key"] for x in measured} >= {"raw", "default-bridge", "user-bridge", "overlay-backend"}
    for x in measured:
        assert x["rtt"]["p50_us"] > 0 and x["rtt"]["p99_us"] >= x["rtt"]["p50_us"], x["key"]
        assert x["rtt"]["n"] > 100 and len(x["throughput"]["runs_gbps"]) == 3, x["key"]
        assert x["throughput"]["median_gbps"] > 0, x["key"]
    raw = next(x for x in measured if x["key"] == "raw")
    others = [x for x in measured if x["key"] != "raw"]
    # fastest within noise: no other path beats the bare veth pair by more than 15 %
    assert raw["rtt"]["p50_us"] <= 1.15 * min(x["rtt"]["p50_us"] for x in others)
    assert raw["throughput"]["median_gbps"] >= 0.85 * max(x["throughput"]["median_gbps"] for x in others)
    http = [x["http"] for x in measured if x.get("http")]
    assert len(http) >= 3 and all(h["p50_ms"] > 0 for h in http)


def test_report_and_cleanup(engine, compared):
    data, out = compared
    assert (out / "chart.svg").read_text().lstrip().startswith("<?xml")
    md = (out / "report.md").read_text()
    assert "| name resolution |" in md and "iperf3 -c" in md
    enc = next(x for x in data["variants"] if x["key"] == "overlay-encrypted" or x.get("encrypted"))
    assert enc["measured"] or enc["why_not"]
    # compare brought the lab up, so it took it down again: nothing of it is left
    assert data["made_lab"] is True
    assert labelled(engine, LAB) == {"containers": [], "networks": [], "volumes": []}


def test_the_report_of_a_removed_lab_is_built_from_what_compare_kept(compared, tmp_path):
    proc, doc = run_json("report", LAB, "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["live"] is False and doc["data"]["sections"] == ["lab", "verify", "compare"]
    page = (tmp_path / "index.html").read_text()
    assert 'id="compare"' in page and "no status of this lab was kept" in page
    assert (tmp_path / "compare.svg").read_text().count("<svg") == 1 and "![" in (tmp_path / "report.md").read_text()
    proc, doc = run_json("report", f"{P}-never-made")
    assert proc.returncode == 1 and "nothing is kept of it either" in " ".join(doc["errors"])


def test_only_the_overlays(engine):
    """--only overlays: the overlay columns alone, the outsider still tried on each, the
    encrypted one (where a kernel has ESP) against the plain one and against nothing else."""
    proc, doc = run_json("compare", f"{LAB}-ov", "--only", "overlays", timeout=600)
    assert proc.returncode == 0, proc.stderr
    data = doc["data"]
    assert data["only"] == ["overlays"]
    assert data["variants"] and {x["kind"] for x in data["variants"]} == {"overlay"}, data["variants"]
    back = next(x for x in data["variants"] if x["key"] == "overlay-backend")
    assert back["measured"] and back["isolation"]["connects"] is False, back
    assert back["rtt"]["p50_us"] > 0 and back["throughput"]["median_gbps"] > 0, back
    assert not set(back["ratios"]) & {"raw", "user-bridge"}, back["ratios"]
    assert labelled(engine, f"{LAB}-ov") == {"containers": [], "networks": [], "volumes": []}
