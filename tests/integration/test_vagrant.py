"""The Vagrant provider: the shipped Vagrantfile validates (no box needed), refuses bad
sizes with the file's own message, and `up --provider vagrant` without a box stops in
preflight with the fix, creating nothing.

The real thing follows: two VMs booted, a lab up on them, then what only they can show
(ESP on the wire, VIP endpoints, the encrypted overlay measured, netem). It runs in the
default run, after scripts/setup-vagrant.sh (README's test command); about 20 minutes under
QEMU's software emulation. Three VMs for a lesson's ESP branch are opt-in: -m vagrant_extra."""
import json
import os
import subprocess

import pytest

from swarmlab.providers.vagrant import VAGRANT_DIR

from ..conftest import P, ROOT, run_cli, run_json

DATA = ROOT / "tests" / "data"


def vagrant(*args, env=None):
    return subprocess.run(["vagrant", *args], cwd=VAGRANT_DIR, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_the_shipped_vagrantfile_validates():
    proc = vagrant("validate")
    assert proc.returncode == 0 and "validated successfully" in proc.stdout, proc.stdout + proc.stderr
    proc = vagrant("validate", env={"SWARMLAB_VAGRANT_LAB": str(DATA / "vagrant" / "two-vms.yaml")})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_vagrantfile_refuses_bad_sizes():
    proc = vagrant("validate", env={"SWARMLAB_VAGRANT_MANAGERS": "2"})
    assert proc.returncode != 0
    assert "managers must be odd and at most count, got 2" in proc.stdout + proc.stderr


def test_up_without_a_box_stops_in_preflight_and_makes_nothing(tmp_path):
    env_home = tmp_path / "vagrant.d"     # a Vagrant home with no box in it
    proc = subprocess.run(["python3", "-m", "swarmlab", "up", "--provider", "vagrant", "--name", f"{P}-vg"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "VAGRANT_HOME": str(env_home)})
    assert proc.returncode == 3, proc.stderr
    assert "box swarmlab/bookworm is not installed" in proc.stderr and "swarmlab vagrant box build" in proc.stderr
    # (Vagrant itself keeps empty per-machine folders; a made VM would leave its id there)
    assert not (VAGRANT_DIR / ".swarmlab").exists() and not list(VAGRANT_DIR.glob(".vagrant/machines/*/*/id"))


@pytest.mark.vagrant
def test_two_vms_up_verify_down(tmp_path):
    """scripts/setup-vagrant.sh first (libvirt, QEMU and the box)."""
    env = {"SWARMLAB_VAGRANT_LAB": str(DATA / "vagrant" / "two-vms.yaml")}
    os.environ.update(env)
    try:
        proc, doc = run_json("up", str(DATA / "vagrant-two.yaml"), "--name", f"{P}-vagrant", "--provider", "vagrant", timeout=5400)
        assert proc.returncode == 0, proc.stderr[-4000:]
        # each VM's host key was pinned from what it said on its serial console, never
        # learned over an SSH session that checks none
        assert "trust on first use" not in proc.stderr, proc.stderr[-4000:]
        rep = doc["data"]
        assert sorted(n["name"] for n in rep["nodes"]) == ["swarm-1", "swarm-2"]
        assert {n["address"] for n in rep["nodes"]} == {"192.168.57.11", "192.168.57.12"}
        assert rep["provider"] == "vagrant"
        # the box's kernel (Debian 6.1) has IPVS and ESP, and the VMs' private network passes
        # IP protocol 50: the branch this machine's own kernel cannot run, for real
        nets = {n["name"]: n for n in rep["networks"]}
        assert nets["backend"]["encrypted"] and not nets["frontend"]["encrypted"], nets
        assert {s["endpoint_mode"] for s in rep["services"]} == {"vip"}, rep["services"]
        # under QEMU software emulation every exec takes seconds: give each check 10 minutes
        proc, doc = run_json("verify", f"{P}-vagrant", "--provider", "vagrant", "--timeout", "600", timeout=3600)
        failed = [c for c in doc["data"]["checks"] if c["status"] == "failed"]
        assert proc.returncode == 0 and not failed, failed or proc.stderr
        wire = next(c for c in doc["data"]["checks"] if c["name"] == "wire: backend")
        assert wire["status"] == "passed" and "ESP: 0" not in wire["observed"], wire
        assert "ESP:" in wire["observed"] and "canary in 0" in wire["observed"], wire
        # compare across the VMs: the encrypted overlay measured for real, against the plain one
        proc, doc = run_json("compare", f"{P}-vagrant", "--provider", "vagrant", "--only", "overlays",
                             "--report", str(tmp_path / "cmp"),
                             timeout=3600)
        assert proc.returncode == 0, (doc["errors"], proc.stderr[-4000:])
        cols = {v["key"]: v for v in doc["data"]["variants"]}
        print("compare on the VMs:", json.dumps(doc["data"]["variants"], indent=1))
        enc, plain = cols["overlay-backend"], cols["overlay-frontend"]
        assert enc["measured"] and enc["encrypted"] and plain["measured"] and not plain["encrypted"], (enc, plain)
        assert enc["wire"]["esp_packets"] and not enc["wire"]["payload_in_clear"], enc["wire"]
        assert enc["throughput"]["median_gbps"] > 0 and enc["rtt"]["p50_us"] > 0, enc
        assert enc["ratios"]["plain-overlay"]["throughput"], enc["ratios"]
        # link impairment through netem, the branch this machine's kernel cannot run
        proc, doc = run_json("drill", "run", "impair-link", f"{P}-vagrant", "--provider", "vagrant",
                             "--set", "node=swarm-1", "--set", "peer=swarm-2", timeout=3600)
        checks = doc["data"]["checks"]
        assert proc.returncode == 0 and not [c for c in checks if c["status"] != "passed"], checks
        lossy = [c for c in checks if c["name"] == "path swarm-1 -> swarm-2"][0]
        rtt = float(lossy["observed"].split("rtt avg ")[1].split(" ms")[0])
        assert lossy["status"] == "passed" and rtt >= 80, lossy    # netem's 100 ms delay, for real
        capped = [c for c in checks if c["name"] == "throughput swarm-1 -> swarm-2"][0]
        assert capped["status"] == "passed", capped
        _an_encrypted_network_made_by_hand_comes_home(tmp_path)
    finally:
        run_cli("down", f"{P}-vgcopy", timeout=900)
        proc = run_cli("down", f"{P}-vagrant", "--provider", "vagrant", timeout=1800)
        for k in env:
            os.environ.pop(k, None)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"], capture_output=True, text=True)
    assert "swarmlab_swarm" not in out.stdout


# what this machine's kernel lacks and the VMs' have: where the copy on dind nodes differs
# from its source, `up` of the copy said why (no IPVS: dnsrr and host ports; no ESP)
KERNEL_MADE = {"networks.backend.encrypted", "services.web.endpoint_mode", "services.web.ports",
               "services.db.endpoint_mode", "services.redis.endpoint_mode"}


def _an_encrypted_network_made_by_hand_comes_home(tmp_path):
    """#33's ESP branch: a network made encrypted by hand on the VMs (ESP carries it there)
    is imported encrypted, and its copy on dind nodes here is encrypted too (--force: this
    kernel has no ESP, so it carries nothing, as `up` says); diff finds no other difference
    than what the kernels make."""
    lab, copy, dest = f"{P}-vagrant", f"{P}-vgcopy", tmp_path / "vg-copy"
    made = run_cli("exec", "swarm-1", lab, "--provider", "vagrant", "--timeout", "1200", "--",
                   "sh", "-c", "docker network create -d overlay --opt encrypted --attachable vault >/dev/null"
                   " && docker service update --quiet --network-add vault app_redis", timeout=1500)
    assert made.returncode == 0, made.stdout + made.stderr
    proc, doc = run_json("import", lab, "--provider", "vagrant", "-o", str(dest), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import yaml
    nets = yaml.safe_load((dest / "scenario.yaml").read_text())["networks"]
    assert nets["vault"] == {"encrypted": True, "attachable": True}, nets
    assert nets["backend"]["encrypted"] == "auto", nets      # as the lab asked: each kernel decides
    refused = run_cli("up", str(dest / "scenario.yaml"), "--name", copy)
    assert refused.returncode == 3 and "network vault asks for encrypted: true" in refused.stderr, refused.stderr
    proc, doc = run_json("up", str(dest / "scenario.yaml"), "--name", copy, "--force")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "network vault: encrypted with --force although" in proc.stderr, proc.stderr[-3000:]
    proc, doc = run_json("diff", lab, copy, "--a-provider", "vagrant", timeout=1800)
    found = {d["path"] for d in doc["data"]["differences"]}
    assert found and {p.split("[")[0] for p in found} <= KERNEL_MADE, doc["data"]["differences"]
    assert not any(p.startswith("networks.vault") for p in found), found


@pytest.mark.vagrant_extra
def test_three_vms_encrypted_cache_on_esp_kernels():
    """Opt-in: the encrypted-cache exercise's other branch. Here no kernel has ESP, so its
    encrypted overlay carries nothing; on the VMs every kernel has ESP (and backend is
    encrypted too), so the setup drops that overlay's VXLAN frames on every node instead,
    and the trainee's fix must hold all the same."""
    env = {"SWARMLAB_VAGRANT_LAB": str(DATA / "vagrant" / "three-vms.yaml")}
    os.environ.update(env)
    lab, vg = f"{P}-vg3", ("--provider", "vagrant")
    try:
        proc, doc = run_json("lesson", "start", "encrypted-cache", lab, *vg, timeout=5400)
        assert proc.returncode == 0, proc.stderr[-4000:]
        assert "every node has ESP: its VXLAN traffic (id " in proc.stderr, proc.stderr[-3000:]
        proc, before = run_json("lesson", "check", lab, *vg, timeout=1800)
        assert proc.returncode == 1, before
        broken = {s["name"]: s for s in before["data"]["steps"] if s["status"] != "passed"}
        assert "every web task reaches redis on 6379" in broken, before["data"]["steps"]
        proc, doc = run_json("lesson", "solution", lab, "--apply", *vg, timeout=1800)
        assert proc.returncode == 0, proc.stderr[-3000:]
        proc, after = run_json("lesson", "check", lab, *vg, timeout=1800)
        assert proc.returncode == 0 and after["data"]["solved"], after["data"]["steps"]
        proc, doc = run_json("lesson", "reset", lab, *vg, timeout=3600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        print("reset on the VMs:", doc["data"]["seconds"], "s")
        proc, again = run_json("lesson", "check", lab, *vg, timeout=1800)
        assert proc.returncode == 1 and {s["name"] for s in again["data"]["steps"] if s["status"] != "passed"} == \
            set(broken), again["data"]["steps"]
    finally:
        proc = run_cli("down", lab, *vg, timeout=1800)
        for k in env:
            os.environ.pop(k, None)
    assert proc.returncode == 0, proc.stderr
