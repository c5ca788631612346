"""Stacks in the shapes of public samples, through `up --stack` and `verify` on a real
engine (issue #31): the one-service file with no networks, two services on the stack's
default network, a global service on the workers, sysctls and stop_signal applied, a bare
container port (published on Swarm's range 30000-32767) and a port range; then every other
file of the corpus Docker takes (Swarm's usual tooling with --host-access), and a check that
each file left is one Docker refuses or one left out with why. Every file that comes up
is imported back (`swarmlab import`), its copy brought up, and `diff` finds no difference.
Each lab is its own and leaves nothing behind."""
from __future__ import annotations

import json

import pytest

from ..conftest import P, ROOT, labelled, run_cli, run_json

pytestmark = pytest.mark.integration
CORPUS = "tests/data/stacks/corpus"
NOTHING = {"containers": [], "networks": [], "volumes": []}


def _node(engine, lab, node, cmd):
    code, out = engine.containers.get(f"swarmlab-{lab}-{node}").exec_run(["sh", "-c", cmd])
    return code, out.decode(errors="replace")


def _up_verify_down(engine, lab, stack, check, *flags, tmp=None):
    """Up, verify, check; then (given tmp) `import` the running lab, bring the copy up and
    `diff` the two: no difference."""
    try:
        proc, doc = run_json("up", "--stack", f"{CORPUS}/{stack}", "--name", lab, *flags)
        assert proc.returncode == 0, proc.stderr
        proc, verified = run_json("verify", lab)
        assert verified["data"], (verified["errors"], proc.stderr[-3000:])
        failed = [c for c in verified["data"]["checks"] if c["status"] == "failed"]
        assert proc.returncode == 0 and not failed, failed or proc.stderr
        check(doc["data"], verified["data"])
        if tmp is not None:
            _round_trip(engine, lab, tmp)
    finally:
        assert run_cli("down", lab).returncode == 0
        assert run_cli("down", f"{lab}c").returncode == 0
    assert labelled(engine, lab) == NOTHING and labelled(engine, f"{lab}c") == NOTHING


def _round_trip(engine, lab, tmp):
    proc, doc = run_json("import", lab, "-o", str(tmp / "copy"))
    assert proc.returncode == 0, proc.stderr
    access = ["--host-access"] if doc["data"]["binds"] else []
    if doc["data"]["hidden"]:      # what the user does: the values they know, in .env beside the stack
        code, out = _node(engine, lab, "node-1", "docker service inspect $(docker service ls -q) "
                                                 "--format '{{json .Spec.TaskTemplate.ContainerSpec.Env}}'")
        known = dict(e.split("=", 1) for line in out.splitlines() if line.strip() for e in json.loads(line) or [] if "=" in e)
        (tmp / "copy" / ".env").write_text("".join(f"{v}={known[v]}\n" for v in doc["data"]["hidden"]))
    proc = run_cli("up", str(tmp / "copy" / "scenario.yaml"), "--name", f"{lab}c", *access)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    proc, diff = run_json("diff", lab, f"{lab}c")
    assert proc.returncode == 0 and diff["data"]["differences"] == [], json.dumps(diff["data"], indent=1)


def test_the_one_service_file_comes_up_verifies_and_leaves_nothing(engine):
    def check(up, verified):
        assert [n["name"] for n in up["networks"]] == [f"{P}-rs1_default"]   # as Docker names it
        assert {s["name"]: s["replicas"] for s in up["services"]} == {f"{P}-rs1_cache": "1/1"}

    _up_verify_down(engine, f"{P}-rs1", "01-one-service.yml", check, "--nodes", "1")


def test_two_services_on_the_default_network_reach_each_other(engine):
    def check(up, verified):
        reach = {c["name"]: c for c in verified["checks"]}
        assert reach["reach worker -> redis"]["status"] == "passed", reach

    _up_verify_down(engine, f"{P}-rs2", "02-two-services-no-networks.yml", check, "--nodes", "2")


def test_a_global_service_sysctls_stop_signal_and_a_bare_port(engine):
    """The global agent on every worker, then sysctls, stop_signal, and a bare port whose
    published port is one of Swarm's range (chosen as ingress would, without IPVS here)."""
    def global_check(up, verified):
        tasks = next(s for s in up["services"] if s["name"] == f"{P}-rs3_agent")["tasks"]
        assert sorted(t["node"] for t in tasks) == ["node-2", "node-3"]

    _up_verify_down(engine, f"{P}-rs3", "18-global-on-workers.yml", global_check)

    def sysctl_check(up, verified):
        code, out = _node(engine, f"{P}-rs4", "node-1",
                          f"for c in $(docker ps -q --filter label=com.docker.swarm.service.name={P}-rs4_cache); do "
                          "docker exec $c cat /proc/sys/net/core/somaxconn; done")
        assert code == 0 and out.split() == ["1024"], out

    _up_verify_down(engine, f"{P}-rs4", "23-sysctls.yml", sysctl_check, "--nodes", "1")

    def signal_check(up, verified):
        code, out = _node(engine, f"{P}-rs5", "node-1", f"docker service inspect {P}-rs5_web")
        spec = json.loads(out)[0]["Spec"]["TaskTemplate"]["ContainerSpec"]
        assert spec["StopSignal"] == "SIGINT" and spec["StopGracePeriod"] == 20 * 10**9

    _up_verify_down(engine, f"{P}-rs5", "24-stop-signal.yml", signal_check, "--nodes", "1")

    def port_check(up, verified):
        web = next(s for s in up["services"] if s["name"] == f"{P}-rs6_web")
        published = [int(p.split("->")[0]) for p in web["ports"]]
        assert len(published) == 1 and 30000 <= published[0] <= 32767, web["ports"]

    _up_verify_down(engine, f"{P}-rs6", "26-bare-port.yml", port_check, "--nodes", "1")


def test_a_build_only_service_and_a_global_agent_on_the_host_network(engine):
    def built(up, verified):
        app = next(s for s in up["services"] if s["name"] == f"{P}-rs7_app")
        assert app["image"] == f"{P}-rs7-app:latest" and app["replicas"] == "1/1"

    try:
        _up_verify_down(engine, f"{P}-rs7", "03-build-only.yml", built, "--nodes", "1")
    finally:
        engine.images.remove(f"{P}-rs7-app:latest", noprune=False)

    def on_host(up, verified):
        checks = {c["name"]: c for c in verified["checks"]}
        assert checks["dns from agent"]["status"] == "unsupported"   # the node's resolver, said so
        code, out = _node(engine, f"{P}-rs8", "node-2",
                          f"docker inspect $(docker ps -q --filter label=com.docker.swarm.service.name={P}-rs8_agent)"
                          " --format '{{.HostConfig.NetworkMode}}'")
        assert code == 0 and out.strip() == "host", out

    _up_verify_down(engine, f"{P}-rs8", "16-global-agent-host-network.yml", on_host, "--nodes", "2", "--host-access")


# More shapes, each on a one-node lab of its own: external and file-made secrets and configs,
# Docker's bridge, a port range beside a UDP port, a shell health check with $$, named volumes,
# a one-shot job left done by its restart policy, an env file, an attachable encrypted overlay.
MORE = ["05-version-3.1-secrets.yml", "07-version-3.3-configs.yml", "17-external-bridge.yml",
        "27-port-ranges.yml", "33-healthcheck-escapes.yml", "38-named-volumes.yml", "40-restart-policy.yml",
        "43-env-file.yml", "52-attachable-encrypted.yml"]
# The rest Docker takes, on the default three-node lab (replicas, host-mode ports and
# placement that one node cannot hold); Swarm's usual tooling with --host-access, as its
# file says.
REST = ["04-version-3.0.yml", "06-version-3.2-long-ports.yml", "08-version-3.4-extensions.yml",
        "09-version-3.5-network-names.yml", "10-version-3.6-tmpfs-size.yml", "11-version-3.7-rollback-init.yml",
        "12-version-3.8-max-per-node.yml", "13-version-3.9.yml", "15-depends-on-list.yml",
        "19-configs-from-files.yml", "20-secrets-external.yml", "21-secrets-from-file.yml", "22-dot-env.yml",
        "25-host-ip-ports.yml", "28-visualizer.yml", "29-reverse-proxy.yml", "30-agent-volumes.yml",
        "31-container-metrics.yml", "32-image-prune.yml", "34-resources.yml", "35-update-config.yml",
        "36-endpoint-dnsrr.yml", "37-placement-preferences.yml", "41-logging.yml", "42-extra-hosts-dns.yml",
        "48-labels-list.yml", "50-net-admin.yml"]
# Left out, with why: 39 needs an NFS server this machine does not have; 49 asks nofile above
# this machine's engine's own 20000, which a dind node cannot raise without CAP_SYS_RESOURCE.
LEFT_OUT = ["39-nfs-volume.yml", "49-ulimits.yml"]
OWN_TESTS = ["01-one-service.yml", "02-two-services-no-networks.yml", "03-build-only.yml",
             "16-global-agent-host-network.yml", "18-global-on-workers.yml", "23-sysctls.yml", "24-stop-signal.yml",
             "26-bare-port.yml"]


def _flags(stack: str) -> list:
    head = (ROOT / CORPUS / stack).read_text().splitlines()
    return ["--host-access"] if any(ln.startswith("# swarmlab:") and "host-access" in ln for ln in head) else []


@pytest.mark.parametrize("stack", MORE)
def test_more_shapes_come_up_verify_and_round_trip(engine, stack, tmp_path):
    lab = f"{P}-rs-{stack[:2]}"
    _up_verify_down(engine, lab, stack, lambda up, verified: None, "--nodes", "1", *_flags(stack), tmp=tmp_path)


@pytest.mark.parametrize("stack", REST)
def test_every_other_file_docker_takes_comes_up_verifies_and_round_trips(engine, stack, tmp_path):
    lab = f"{P}-rs-{stack[:2]}"
    _up_verify_down(engine, lab, stack, lambda up, verified: None, *_flags(stack), tmp=tmp_path)


def test_every_corpus_file_is_deployed_or_refused_or_left_out_with_why():
    from swarmlab.config.from_stack import load_stack
    from swarmlab.config.loader import Flags
    from swarmlab.errors import ConfigError

    deployed = set(MORE + REST + OWN_TESTS)
    for path in sorted((ROOT / CORPUS).glob("*.yml")):
        if path.name in deployed or path.name in LEFT_OUT:
            continue
        with pytest.raises(ConfigError):   # what Docker refuses (the verdict test says it agrees)
            load_stack(path, Flags(name="corpus", host_access=True))
