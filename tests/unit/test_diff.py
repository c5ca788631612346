"""The lab model and the diff of two models, on inspect records written here."""
from swarmlab.diff import ABSENT, Difference, differences
from swarmlab.observe.model import network_model, node_model, service_model


def _service(**over):
    spec = {
        "Name": "app_web",
        "Labels": {"com.docker.stack.namespace": "app", "io.swarmlab.lab": "lab", "team": "shop"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "swarmlab/web:1@sha256:" + "ab" * 32,
                "Env": ["MODE=prod", "DB_PASSWORD=hunter2"],
                "Secrets": [{"SecretName": "app_db_password", "File": {"Name": "db_password"}}],
            },
            "Placement": {"Constraints": ["node.labels.tier==app", "node.role==worker"]},
            "Networks": [{"Target": "n1", "Aliases": ["web", "shop"]}],
        },
        "Mode": {"Replicated": {"Replicas": 2}},
        "EndpointSpec": {"Mode": "vip", "Ports": [{"TargetPort": 8080, "PublishedPort": 8080, "Protocol": "tcp"}]},
    }
    spec.update(over)
    return service_model(spec, {"n1": "frontend"})


def test_a_service_is_modelled_by_what_a_stack_file_can_state():
    m = _service()
    assert m["image"] == "swarmlab/web:1" and m["mode"] == "replicated" and m["replicas"] == 2
    assert m["constraints"] == ["node.labels.tier==app", "node.role==worker"]
    # the alias of its own short name is every stack service's: only the others count
    assert m["networks"] == {"frontend": ["shop"]} and m["labels"] == {"team": "shop"}
    assert m["ports"] == [{"published": 8080, "target": 8080, "protocol": "tcp", "mode": "ingress"}]
    assert m["secrets"] == [("app_db_password", "db_password")]
    assert set(m["env"]) == {"MODE", "DB_PASSWORD"} and "hunter2" not in str(m)


def test_nodes_and_networks_keep_what_the_user_set():
    node = node_model({"Spec": {"Role": "worker", "Availability": "drain", "Labels": {"tier": "data"}}})
    assert node == {"role": "worker", "availability": "drain", "labels": {"tier": "data"}}
    net = network_model({"Driver": "overlay", "Options": {"encrypted": ""}, "Attachable": True,
                         "Labels": {"io.swarmlab.role": "overlay", "owner": "ops"}, "Id": "x",
                         "IPAM": {"Config": [{"Subnet": "10.0.1.0/24"}]}})
    assert net == {"driver": "overlay", "encrypted": True, "attachable": True, "internal": False,
                   "labels": {"owner": "ops"}}


def test_two_equal_models_have_no_difference_and_each_change_is_found_by_its_path():
    a = {"services": {"web": _service()}, "nodes": {"node-1": {"labels": {"tier": "app"}}}}
    assert differences(a, a) == []
    b = {"services": {"web": _service(Mode={"Replicated": {"Replicas": 3}})}, "nodes": {"node-1": {"labels": {}}}}
    found = differences(a, b)
    assert [(".".join(d.path), d.a, d.b) for d in found] == [
        ("nodes.node-1.labels.tier", "app", ABSENT),
        ("services.web.replicas", 2, 3),
    ]


def test_an_environment_value_is_never_shown():
    a = {"services": {"web": _service()}}
    b = {"services": {"web": _service(TaskTemplate={"ContainerSpec": {"Env": ["MODE=prod", "DB_PASSWORD=other"]}})}}
    shown = [d.shown() for d in differences(a, b) if d.path[2] == "env"]
    assert shown == [{"path": "services.web.env.DB_PASSWORD", "a": "a value", "b": "another value"}]
    gone = Difference(("services", "web", "env", "TOKEN"), "sha256:1234", ABSENT).shown()
    assert gone == {"path": "services.web.env.TOKEN", "a": "set", "b": ABSENT}
