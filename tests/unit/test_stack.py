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
    for bad in (["8000"], ["1.2.3.4:80:80"], ["a:b"]):
        with pytest.raises(ValueError):
            S.parse_ports(bad)


@pytest.mark.parametrize("image,ok", [
    ("swarmlab.local/web:bookworm", True), ("localhost/x", True), ("reg:5000/x:1", True),
    ("redis:7", False), ("library/redis", False), ("redis", False)])
def test_qualified_images(image, ok):
    assert S.is_qualified(image) is ok


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
    assert out["services"]["web"]["ports"] == STACK["services"]["web"]["ports"]


def test_external_secrets():
    assert S.external_secrets(STACK) == ["pw"]


def test_check_is_clean_for_a_good_stack():
    nodes = [("node-1", "manager", {"tier": "app"}), ("node-2", "worker", {"tier": "app"}),
             ("node-3", "worker", {"tier": "data"})]
    assert list(S.check(STACK, ["frontend", "backend"], nodes)) == []
