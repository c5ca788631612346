"""The stack file: constraint logic, port parsing, and what is rendered for the lab."""
import pytest
import yaml

from swarmlab import labels as L
from swarmlab.config import stack as S

STACK = yaml.safe_load("""
version: "3.8"
services:
  web:
    image: swarmlab.local/web:bookworm
    ports: ["8080:8000", {target: 53, published: 5353, protocol: udp}]
    networks: [frontend, backend]
    deploy:
      replicas: 2
      placement: {constraints: [node.labels.tier == app], max_replicas_per_node: 1}
  db:
    image: swarmlab.local/db:bookworm
    networks: [backend]
    volumes: [data:/var/lib/postgresql/data]
    deploy: {placement: {constraints: [node.labels.tier == data, node.role != manager]}}
  tool:
    image: localhost/tool:1
volumes:
  data: {}
secrets:
  pw: {external: true}
  cert: {file: ./cert.pem}
""")


@pytest.mark.parametrize("expr,expected", [
    ("node.labels.tier == app", True),
    ("node.labels.tier != app", False),
    ("node.labels.zone == x", False),
    ("node.labels.zone != x", True),
    ("node.role == manager", True),
    ("node.role==worker", False),
    ("node.hostname == node-1", True),
    ("engine.labels.x == y", None),
])
def test_eval_constraint(expr, expected):
    assert S.eval_constraint(expr, "node-1", "manager", {"tier": "app"}) is expected


def test_parse_ports_short_and_long():
    assert S.parse_ports(["8080:8000", "53:53/udp", {"target": 80, "published": 81, "mode": "host"}]) == [
        S.Port(8080, 8000), S.Port(53, 53, "udp"), S.Port(81, 80, "tcp", "host")]
    # as Docker reads them: a bare port (Swarm chooses the published one), a host IP (dropped), ranges
    assert S.parse_ports(["8000", "1.2.3.4:80:80", "[::1]::81/udp", "9000-9001:90-91"]) == [
        S.Port(None, 8000), S.Port(80, 80, host_ip="1.2.3.4"), S.Port(None, 81, "udp", host_ip="::1"),
        S.Port(9000, 90), S.Port(9001, 91)]
    for bad in (["a:b"], ["1-2:1-3"], ["80:0"], ["8080:80/icmp"], ["1-5000:1-5000"]):
        with pytest.raises(ValueError):
            S.parse_ports(bad)


def test_images_follow_constraints():
    assert S.images_for_node(STACK, "node-1", "manager", {"tier": "app"}) == [
        "localhost/tool:1", "swarmlab.local/web:bookworm"]
    assert S.images_for_node(STACK, "node-3", "worker", {"tier": "data"}) == [
        "localhost/tool:1", "swarmlab.local/db:bookworm"]
    assert S.images_for_node(STACK, "node-2", "manager", {"tier": "data"}) == ["localhost/tool:1"]


def test_render_without_ipvs_uses_dnsrr_and_host_ports():
    out = S.render(STACK, "lab1", ["frontend", "backend"], ipvs=False)
    web = out["services"]["web"]
    assert web["deploy"]["endpoint_mode"] == "dnsrr"
    assert web["ports"] == [{"target": 8000, "published": 8080, "protocol": "tcp", "mode": "host"},
                            {"target": 53, "published": 5353, "protocol": "udp", "mode": "host"}]
    for svc in out["services"].values():
        assert svc["deploy"]["labels"][L.LAB] == "lab1" and svc["labels"][L.LAB] == "lab1"
    assert out["networks"] == {"frontend": {"external": True, "name": "frontend"},
                               "backend": {"external": True, "name": "backend"}}
    assert out["volumes"]["data"]["labels"][L.LAB] == "lab1"
    assert "endpoint_mode" not in (STACK["services"]["web"].get("deploy") or {}), "input must not change"


def test_render_with_ipvs_keeps_the_file_settings():
    out = S.render(STACK, "lab1", ["frontend", "backend"], ipvs=True)
    assert "endpoint_mode" not in out["services"]["web"]["deploy"]
    assert [(p["published"], p["target"], p["mode"]) for p in out["services"]["web"]["ports"]] == \
        [(p.published, p.target, "ingress") for p in S.parse_ports(STACK["services"]["web"]["ports"])]


def test_external_secrets():
    assert S.external_secrets(STACK) == ["pw"]


def test_check_is_clean_for_a_good_stack():
    nodes = [("node-1", "manager", {"tier": "app"}), ("node-2", "worker", {"tier": "app"}),
             ("node-3", "worker", {"tier": "data"})]
    from swarmlab.config.stack_check import check

    assert list(check(STACK, ["frontend", "backend"], nodes)) == []


def test_host_access_lets_a_scenario_have_what_a_sealed_lab_refuses(tmp_path):
    from swarmlab.actions.context import UpContext
    from swarmlab.config import load_scenario
    from swarmlab.errors import ConfigError
    from swarmlab.lab import _warn_host_access
    from swarmlab.providers.dind import DindProvider

    (tmp_path / "s.yml").write_text(
        "services:\n  agent:\n    image: swarmlab.local/web:bookworm\n    networks: [net]\n"
        "    volumes: ['/var/run/docker.sock:/var/run/docker.sock', 'data:/data']\n    cap_add: [CHOWN, ALL]\n"
        "volumes: {data: {}}\n")
    text = ("apiVersion: swarmlab/v1\nkind: Scenario\nnodes: {managers: 1}\nnetworks: {net: {}}\n"
            "stack: {file: s.yml}\nwait: {http: null}\n")
    (tmp_path / "sealed.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenario(tmp_path / "sealed.yaml")
    assert [p.path for p in info.value.problems] == ["services.agent.volumes.0", "services.agent.cap_add.1"]
    assert all("--host-access" in p.message for p in info.value.problems)
    (tmp_path / "open.yaml").write_text(text + "host_access: true\n")
    for s in (load_scenario(tmp_path / "open.yaml"), load_scenario(tmp_path / "sealed.yaml", host_access=True)):
        said = []
        ctx = UpContext(scenario=s, lab="x", provider=DindProvider(client=object()), say=said.append)
        _warn_host_access(ctx)
        assert len(said) == 1 and said[0].startswith("warning: host access granted:")
        assert "root on this machine" in said[0] and "agent (" in said[0] and "docker.sock" in said[0]
        assert "cap_add ALL" in said[0] and "CHOWN" not in said[0]


def test_the_seal_allows_what_touches_nothing_of_the_node():
    from swarmlab.config import seal

    stack = {"services": {"web": {
        "image": "x", "volumes": ["data:/data", "/anonymous", {"type": "tmpfs", "target": "/t"},
                                  {"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": True}}],
        "cap_add": ["CHOWN", "CAP_NET_BIND_SERVICE"], "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"],
        "secrets": ["pw"], "configs": ["conf"], "tmpfs": ["/run"], "network_mode": None}},
        "volumes": {"data": {"driver": "local"}, "old": {"external": True}}}
    assert list(seal.check(stack)) == []




def test_a_bare_port_never_takes_one_another_stack_of_the_lab_publishes():
    from swarmlab.config.stack import render

    stack = {"services": {"web": {"image": "x", "ports": ["8000"]}}}
    ports = lambda out: [p["published"] for p in out["services"]["web"]["ports"]]  # noqa: E731
    assert ports(render(stack, "lab", [], False)) == [30000]
    assert ports(render(stack, "lab", [], False, taken={30000, 30001})) == [30002]
