"""`import` on inspect records written here: each service written back as the compose
that makes that spec again, secrets and secret-looking values never written, the
scenario's nodes and networks, and a folder that appears whole or not at all."""
import hashlib

import pytest
import yaml

from swarmlab.diff import paired, renamed
from swarmlab.errors import SwarmlabError
from swarmlab.imports import build, write
from swarmlab.imports.service import duration, secret_looking
from swarmlab.imports.pinning import CopyNode, pins
from swarmlab.imports.stack import Where, write_stack
from swarmlab.observe.model import config_name
from swarmlab.observe.specs import Specs

PLANTED = "planted-Zq81-value"
CONF = b"listen 8080\n"
SUFFIX = "-" + hashlib.sha256(CONF).hexdigest()[:8]


def _spec(**over):
    spec = {
        "Name": "shop_web",
        "Labels": {"com.docker.stack.namespace": "shop", "io.swarmlab.lab": "src", "team": "blue"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "example/web:2@sha256:" + "cd" * 32,
                "Args": ["serve", "--price=$5"],
                "Env": ["MODE=prod", f"API_TOKEN={PLANTED}", "DB_PASSWORD_FILE=/run/secrets/db"],
                "Secrets": [{"SecretName": "db", "File": {"Name": "db", "UID": "0", "GID": "0", "Mode": 292}},
                            {"SecretName": "tls", "File": {"Name": "key.pem", "UID": "0", "GID": "0", "Mode": 256}}],
                "Configs": [{"ConfigName": "shop_conf" + SUFFIX, "File": {"Name": "/etc/web.conf", "Mode": 292}}],
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_500_000_000, "Retries": 3},
                "Mounts": [{"Type": "volume", "Source": "shop_data", "Target": "/data"},
                           {"Type": "bind", "Source": "/srv/logs", "Target": "/logs", "ReadOnly": True}],
                "StopGracePeriod": 10_000_000_000,
                "Sysctls": {"net.core.somaxconn": "1024"},
            },
            "Placement": {"Constraints": ["node.hostname == alpha"], "MaxReplicas": 1,
                          "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]},
            "Resources": {"Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 67_108_864}},
            "RestartPolicy": {"Condition": "on-failure", "Delay": 1_000_000_000, "MaxAttempts": 3},
            "Networks": [{"Target": "n1", "Aliases": ["web", "shop-front"]}],
        },
        "Mode": {"Replicated": {"Replicas": 3}},
        "EndpointSpec": {"Mode": "vip", "Ports": [{"TargetPort": 8080, "PublishedPort": 80, "Protocol": "tcp",
                                                   "PublishMode": "ingress"}]},
    }
    spec.update(over)
    return {"Spec": spec}


NETS = [{"Id": "n1", "Name": "front", "Driver": "overlay", "Options": {"encrypted": ""}, "Attachable": True,
         "Internal": True, "Labels": {"io.swarmlab.encrypted-requested": "auto", "owner": "ops"},
         "IPAM": {"Config": [{"Subnet": "10.77.0.0/24"}]}}]


def _node(name, role, **spec):
    return {"name": name, "Description": {"Hostname": name}, "Spec": {"Role": role, "Availability": "active", **spec}}


def _specs(services=None):
    nodes = [_node("gamma", "worker", Labels={"tier": "data"}), _node("alpha", "manager"),
             _node("beta", "worker", Availability="pause")]
    return Specs(nodes, NETS, services or [_spec()], {"shop_conf" + SUFFIX: CONF})


def test_a_service_is_written_back_as_the_compose_that_makes_it():
    out = write_stack([_spec()], NETS, Where({"alpha": "node-1"}), {"shop_conf" + SUFFIX: CONF})
    web = out.stack["services"]["web"]
    assert web["image"] == "example/web:2" and out.images == {"example/web:2": "sha256:" + "cd" * 32}
    assert web["command"] == ["serve", "--price=$$5"]          # compose would read $5 as a variable
    assert web["deploy"]["replicas"] == 3 and "endpoint_mode" not in web["deploy"]
    assert web["deploy"]["placement"] == {"constraints": ["node.hostname == node-1"], "max_replicas_per_node": 1,
                                          "preferences": [{"spread": "node.labels.zone"}]}
    assert web["deploy"]["resources"] == {"limits": {"cpus": "0.5", "memory": "67108864"}}
    assert web["deploy"]["restart_policy"] == {"condition": "on-failure", "delay": "1s", "max_attempts": 3}
    assert web["deploy"]["labels"] == {"team": "blue"}
    assert web["networks"] == {"front": {"aliases": ["shop-front"]}}   # stack deploy adds "web" itself
    assert web["healthcheck"] == {"test": ["CMD", "true"], "interval": "1500ms", "retries": 3}
    assert web["ports"] == [{"target": 8080, "published": 80, "protocol": "tcp", "mode": "ingress"}]
    assert web["secrets"] == ["db", {"source": "tls", "target": "key.pem", "uid": "0", "gid": "0", "mode": 256}]
    assert web["configs"] == [{"source": "shop_conf", "target": "/etc/web.conf", "uid": "0", "gid": "0",
                               "mode": 292}]
    assert out.configs == {"shop_conf": CONF}                   # without swarmlab's content suffix
    assert out.stack["secrets"] == {"db": {"external": True}, "tls": {"external": True}}
    assert out.stack["volumes"] == {"shop_data": {"name": "shop_data"}}
    assert out.binds == ["web: /srv/logs -> /logs"]
    assert any("Sysctls" in n for n in out.notes)
    assert out.stack["networks"]["front"] == {"driver": "overlay", "driver_opts": {"encrypted": ""},
                                              "attachable": True, "internal": True, "labels": {"owner": "ops"}}


def test_secret_looking_values_are_never_written():
    out = write_stack([_spec()], NETS, Where())
    env = out.stack["services"]["web"]["environment"]
    assert env == {"MODE": "prod", "API_TOKEN": "${API_TOKEN}", "DB_PASSWORD_FILE": "/run/secrets/db"}
    assert out.hidden == {"API_TOKEN": ["web"]} and PLANTED not in yaml.safe_dump(out.stack)
    for name in ("DB_PASSWORD", "api_key", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SENTRY_DSN"):
        assert secret_looking(name), name
    for name in ("DB_HOST", "MODE", "POSTGRES_PASSWORD_FILE", "NODE_NAME"):
        assert not secret_looking(name), name


def test_what_a_stack_file_cannot_state_is_said_not_dropped_silently():
    job = _spec(Mode={"ReplicatedJob": {"MaxConcurrent": 1}})
    out = write_stack([job], NETS, Where())
    assert "deploy" not in out.stack["services"]["web"]
    assert any("a job (ReplicatedJob)" in n for n in out.notes)
    disabled = _spec()
    disabled["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"] = {"Test": ["NONE"]}
    assert write_stack([disabled], NETS, Where()).stack["services"]["web"]["healthcheck"] == {"disable": True}


def test_durations_read_back_as_the_same_nanoseconds():
    assert [duration(x) for x in (1_000_000_000, 120_000_000_000, 250_000_000, 1_500, 7)] == [
        "1s", "120s", "250ms", "1500ns", "7ns"]


def test_the_scenario_names_nodes_managers_first_and_keeps_labels_availability_and_networks():
    built = build("src", _specs(), keep_subnets=True)
    scenario = yaml.safe_load(built["files"]["scenario.yaml"])
    assert scenario["nodes"] == {"managers": 1, "workers": 2, "labels": {"node-3": {"tier": "data"}},
                                 "availability": {"node-2": "pause"}}
    assert scenario["networks"] == {"front": {"encrypted": "auto", "attachable": True, "internal": True,
                                              "labels": {"owner": "ops"}, "subnet": "10.77.0.0/24"}}
    assert scenario["stack"] == {"file": "shop.yml", "name": "shop"}
    stack = yaml.safe_load(built["files"]["shop.yml"])
    assert stack["services"]["web"]["deploy"]["placement"]["constraints"] == ["node.hostname == node-1"]
    assert built["files"][".env.example"].endswith("API_TOKEN=\n") and built["hidden"] == ["API_TOKEN"]
    assert "subnet" not in yaml.safe_load(build("src", _specs())["files"]["scenario.yaml"])["networks"]["front"]
    assert not any(PLANTED in (v if isinstance(v, str) else v.decode()) for v in built["files"].values())


def test_an_even_number_of_managers_is_carried_as_docker_takes_it():
    specs = _specs()
    specs.nodes.append(_node("delta", "manager"))
    nodes = yaml.safe_load(build("src", specs)["files"]["scenario.yaml"])["nodes"]
    assert nodes["managers"] == 2 and nodes["workers"] == 2


def test_the_folder_appears_whole_or_not_at_all(tmp_path):
    dest = tmp_path / "copy"
    good = build("src", _specs([_spec(TaskTemplate={"ContainerSpec": {"Image": "example/web:2"},
                                                    "Networks": [{"Target": "n1"}]})]))
    write(dest, good)
    assert sorted(p.name for p in dest.iterdir()) == ["scenario.yaml", "shop.yml"]
    with pytest.raises(SwarmlabError) as exc:
        write(dest, good)                                       # it exists: nothing is touched
    assert exc.value.exit_code == 2
    bad = build("src", _specs([_spec(TaskTemplate={"ContainerSpec": {"Image": "Not An Image!"}})]))
    with pytest.raises(SwarmlabError, match="nothing was written"):
        write(tmp_path / "bad", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]     # no folder, no staging left


def test_a_config_made_by_swarmlab_is_named_without_its_content_suffix():
    assert config_name("shop_conf" + SUFFIX, {"shop_conf" + SUFFIX: CONF}) == "shop_conf"
    assert config_name("shop_conf-0badc0de", {"shop_conf-0badc0de": CONF}) == "shop_conf-0badc0de"


def test_diff_pairs_nodes_in_order_when_the_copy_names_them_anew():
    a = {"nodes": {"alpha": {"role": "manager"}, "beta": {"role": "worker"}},
         "placement": {"web": ["beta"]}, "services": {"web": {"constraints": ["node.hostname==beta"]}}}
    b = {"nodes": {"node-1": {"role": "manager"}, "node-2": {"role": "worker"}}}
    pairs = paired(a, b)
    assert pairs == {"alpha": "node-1", "beta": "node-2"}
    same = renamed(a, pairs)
    assert same["placement"] == {"web": ["node-2"]} and same["services"]["web"]["constraints"] == ["node.hostname==node-2"]
    assert paired(a, a) == {} and paired(a, {"nodes": {"node-1": {"role": "manager"}}}) == {}


def test_a_docker_endpoint_is_checked_first_and_chosen_in_the_environment():
    from swarmlab.transport.endpoint import EndpointTransport

    t = EndpointTransport(docker_host="tcp://10.1.2.3:2375")
    r = t.run(["sh", "-c", 'printf "%s|%s" "$DOCKER_HOST" "${DOCKER_CONTEXT:-none}"'])
    assert r.stdout == "tcp://10.1.2.3:2375|none" and "10.1.2.3" not in r.cmd
    assert EndpointTransport(context="prod").run('printf %s "$DOCKER_CONTEXT"').stdout == "prod"
    for bad in ({"docker_host": "tcp://x;id:1"}, {"docker_host": "http://x:1"}, {"context": "-rf"},
                {"context": "a", "docker_host": "tcp://x:1"}, {}):
        with pytest.raises(SwarmlabError) as exc:
            EndpointTransport(**bad)
        assert exc.value.exit_code == 2, bad


def test_a_copy_keeps_replicated_tasks_where_they_ran():
    nodes = [CopyNode("node-1", "manager"), CopyNode("node-2", "worker", {"tier": "app"}),
             CopyNode("node-3", "worker", {"tier": "app"})]
    assert pins([], ["node-3"], nodes) == ["node.labels.io.swarmlab.placed != node-1",
                                           "node.labels.io.swarmlab.placed != node-2"]
    # only nodes its own constraints allow are ruled out; ran nowhere (pending): nothing pinned
    assert pins(["node.labels.tier == app"], ["node-2"], nodes) == ["node.labels.io.swarmlab.placed != node-3"]
    assert pins(["node.labels.tier == app"], ["node-2", "node-3"], nodes) == [] and pins([], [], nodes) == []
    specs = _specs([_spec(TaskTemplate={"ContainerSpec": {"Image": "example/web:2"}})])
    specs.where = {"shop_web": ["beta", "beta"]}
    built = build("src", specs)
    stack, scenario = (yaml.safe_load(built["files"][f]) for f in ("shop.yml", "scenario.yaml"))
    assert stack["services"]["web"]["deploy"]["placement"]["constraints"] == [
        "node.labels.io.swarmlab.placed != node-1", "node.labels.io.swarmlab.placed != node-3"]
    assert {n: v["io.swarmlab.placed"] for n, v in scenario["nodes"]["labels"].items()} == {
        "node-1": "node-1", "node-2": "node-2", "node-3": "node-3"}
    from swarmlab.observe.model import service_model
    assert service_model({"TaskTemplate": {"Placement": {"Constraints": [
        "node.labels.io.swarmlab.placed != node-1", "node.role == worker"]}}}, {})["constraints"] == [
        "node.role == worker"]                                  # diff compares the service's own


def test_names_from_the_source_never_become_paths_out_of_the_folder(tmp_path):
    """A hostile engine behind --docker-host may answer anything: a config, secret or
    stack name is a file name here, checked in full before anything is written."""
    for over in ({"Configs": [{"ConfigName": "../../escape", "File": {"Name": "/c"}}]},
                 {"Secrets": [{"SecretName": "a/b", "File": {"Name": "s"}}]}):
        spec = _spec(TaskTemplate={"ContainerSpec": {"Image": "example/web:2", **over}})
        with pytest.raises(SwarmlabError) as exc:
            build("src", _specs([spec]))
        assert exc.value.exit_code == 2 and "is not valid" in exc.value.message
    spec = _spec(TaskTemplate={"ContainerSpec": {"Image": "example/web:2"}})
    spec["Spec"]["Labels"]["com.docker.stack.namespace"] = "../up"
    with pytest.raises(SwarmlabError, match="stack name"):
        build("src", _specs([spec]))
    built = build("src", _specs([_spec(TaskTemplate={"ContainerSpec": {"Image": "example/web:2"}})]))
    built["files"]["../outside.yml"] = "x: 1\n"
    with pytest.raises(SwarmlabError, match="outside"):
        write(tmp_path / "copy", built)
    assert list(tmp_path.iterdir()) == []


def test_fetch_images_asks_each_node_and_leaves_what_no_node_holds():
    """Only the images this engine lacks are looked for; one no node holds says so, with the
    nodes asked (no `docker save`, no `docker load` is started)."""
    from types import SimpleNamespace

    from swarmlab.imports import fetching as fetch
    from swarmlab.result import CommandResult

    asked = []

    def node(name):
        def run(args, **k):
            asked.append((name, args[:3]))
            return CommandResult(name, "inspect", 1, "", "No such image", 0.1)
        return name, SimpleNamespace(run=run)

    images = [{"image": "acme/api:1", "from": "on this engine"},
              {"image": "acme/worker:2", "from": f"{fetch.NOT_HERE}: ..."}]
    said = []
    fetch.fetch(images, [node("node-1"), node("node-2")], said.append)
    assert images[0]["from"] == "on this engine"
    assert images[1]["from"].startswith(f"{fetch.NOT_HERE}, nor on any node of the source asked (node-1, node-2)")
    assert asked == [("node-1", ["docker", "image", "inspect"]), ("node-2", ["docker", "image", "inspect"])]
    assert said == [f"acme/worker:2: {images[1]['from']}"]


def test_fetch_images_does_not_fill_this_machine_s_disk(monkeypatch):
    """An image bigger than this engine's free disk (less a spare GiB) is not fetched, and
    that is said with both figures; no `docker save` is started."""
    from types import SimpleNamespace

    from swarmlab.imports import fetching as fetch
    from swarmlab.result import CommandResult

    ran = []

    def run(args, **k):
        ran.append(args[:2])
        return CommandResult("node-1", "inspect", 0, str(3 * 2**30), "", 0.1)

    monkeypatch.setattr(fetch.reads, "free_for_images", lambda: 2 * 2**30)
    monkeypatch.setattr(fetch.subprocess, "Popen", lambda *a, **k: pytest.fail("docker load started"))
    said = fetch.fetch_one("acme/big:1", [("node-1", SimpleNamespace(run=run))])
    assert said == (f"{fetch.NOT_HERE}: node-1 holds it, but it is 3072 MiB and this engine's disk has 2048 MiB "
                    "free (1 GiB is kept spare): free some space, then import again")
    assert ran == [["docker", "image"]]


def test_each_stack_is_written_in_its_own_file_and_services_without_one_in_theirs():
    """Two stacks with a service of the same name, and one made by `docker service create`:
    three files, three stacks, and no name changes hands."""
    tools = _spec(Name="tools_web", Labels={"com.docker.stack.namespace": "tools"})
    loose = _spec(Name="probe", Labels={})
    built = build("src", _specs([_spec(), tools, loose]))
    scenario = yaml.safe_load(built["files"]["scenario.yaml"])
    assert "stack" not in scenario and scenario["stacks"] == [
        {"file": "services.yml", "name": "services"}, {"file": "shop.yml", "name": "shop"},
        {"file": "tools.yml", "name": "tools"}]
    assert [list(yaml.safe_load(built["files"][f])["services"]) for f in ("services.yml", "shop.yml", "tools.yml")] \
        == [["probe"], ["web"], ["web"]]
    assert any("1 service(s) made without a stack: in services.yml" in n for n in built["notes"])
    assert built["hidden"] == ["API_TOKEN"] and "# used by probe, web" in built["files"][".env.example"]
    # services made without any stack keep the one-file layout
    only = build("src", _specs([loose]))
    assert yaml.safe_load(only["files"]["scenario.yaml"])["stack"] == {"file": "app.yml", "name": "app"}


def test_diff_names_a_service_in_full_where_two_stacks_share_its_name():
    from swarmlab.observe.model import model_of

    tools = _spec(Name="tools_web", Labels={"com.docker.stack.namespace": "tools"})
    db = _spec(Name="shop_db")
    model = model_of(_specs([_spec(), tools, db]))
    assert sorted(model["services"]) == ["db", "shop_web", "tools_web"]
    assert sorted(model["placement"]) == ["db", "shop_web", "tools_web"]


def test_empty_resources_are_no_resources():
    """`docker service create` records Limits: {}; a stack deploy records nothing."""
    from swarmlab.observe.model import service_model

    made = _spec(Name="probe", Labels={})["Spec"]
    made["TaskTemplate"]["Resources"] = {"Limits": {}, "Reservations": {}}
    deployed = _spec(Name="probe", Labels={})["Spec"]
    deployed["TaskTemplate"].pop("Resources")
    assert service_model(made, {}) == service_model(deployed, {})


def test_two_stacks_networks_of_one_short_name_are_said_joined():
    nets = NETS + [{"Id": "n2", "Name": "tools_front", "Driver": "overlay",
                    "Labels": {"com.docker.stack.namespace": "tools"}}]
    specs = _specs([_spec(), _spec(Name="tools_web", Labels={"com.docker.stack.namespace": "tools"})])
    specs.networks = nets
    built = build("src", specs)
    assert "networks front, tools_front are one network front in the copy: their services can reach each other" \
        in built["notes"]
    assert not any("one network" in n for n in build("src", _specs())["notes"])
