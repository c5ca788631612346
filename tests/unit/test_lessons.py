"""Lesson files (issue #15): the shipped ones load in both languages and name only what
their lab has; a bad file is every problem at once with its file, line and path; the
checkpoint's stack edits are made on a copy; "settled" means running or waiting with a reason."""
import json
from pathlib import Path

import pytest

from swarmlab.observe import settle as wait
from swarmlab.errors import ConfigError
from swarmlab.observe.running import TaskView
from swarmlab.lessons import lesson_scenario
from swarmlab.lessons.model import LANGS, all_lessons, find, load_lesson
from swarmlab.lessons.edits import edited_stack

DATA = Path(__file__).resolve().parents[1] / "data" / "lessons"


class Provider:
    """What lesson_scenario asks of a provider: dind's answers (nodes from the scenario)."""
    sized_by_flags = True

    def nodes_for(self, scenario):
        return scenario


def test_every_shipped_lesson_loads_with_english_and_french_texts():
    lessons = all_lessons()
    assert len({x.id for x in lessons}) == len(lessons) >= 7
    kinds = {x.type for x in lessons}
    assert kinds == {"concept", "troubleshoot"}
    for x in lessons:
        texts = [x.title, x.brief] + [s.title for s in x.steps] + list(x.hints)
        for t in texts:
            assert set(t) == set(LANGS), (x.id, t)


@pytest.mark.parametrize("lesson", all_lessons(), ids=lambda x: x.id)
def test_every_shipped_lesson_names_only_what_its_lab_has(lesson):
    scenario = lesson_scenario(lesson, "lab", Provider())
    assert scenario.name == "lab"


def test_a_bad_lesson_is_every_problem_at_once_with_file_line_and_path():
    with pytest.raises(ConfigError) as err:
        load_lesson(DATA / "invalid.yaml")
    lines = [str(p) for p in err.value.problems]
    text = "\n".join(lines)
    assert "invalid.yaml:10: setup.stack.web.colour: unknown key" in text
    assert "steps.0.check: must have exactly one of:" in text
    assert "invalid.yaml:19: steps.2.check.ping: unknown key" in text
    assert err.value.exit_code == 2


def test_names_are_checked_once_the_schema_holds(tmp_path):
    text = (DATA / "invalid.yaml").read_text()
    # keep only the grammar problems: one check kind per step, no unknown keys
    text = text.replace(", colour: blue", "").replace(", resolves: {from: web, name: db}", "")
    text = text.replace("check: {ping: {from: web}}", "check: {replicas: {service: web, running: 2}}")
    f = tmp_path / "names.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_lesson(f)
    text = "\n".join(str(p) for p in err.value.problems)
    assert "names.yaml:3: id: lesson id 'Bad_Id' is not a lesson id" in text
    assert "setup.stack.web.networks_remove.0: network name 'back;end'" in text
    assert "setup.faults.0.block.node: host name 'node-1 && rm -rf /'" in text
    assert "steps.1.check.reach.from: host name 'web;touch '" in text   # NODE/CONTAINER: its node part
    assert "solution.0.run.3: unknown placeholder {evil}" in text
    assert "scenario: no scenario file at" in text   # none beside a file in tmp_path


def test_a_lesson_naming_a_node_its_lab_lacks_is_refused(tmp_path):
    text = (Path(find("drained-node").path)).read_text().replace("drain: node-2", "drain: node-9")
    f = tmp_path / "drained.yaml"
    f.write_text(text.replace("scenario: ", "x: ") + "scenario: " + str(find("drained-node").scenario) + "\n")
    with pytest.raises(ConfigError) as err:
        lesson_scenario(load_lesson(f), "lab", Provider())
    assert "setup.faults.0.drain: no node node-9 in the lab: one of node-1, node-2, node-3" in str(err.value.problems[0])


def test_files_and_stacks_a_lesson_leaves_are_checked_names(tmp_path):
    """A file the setup writes on a node: its path under /root, /srv or /tmp with no '..' or
    dotfile and no shell; its node in the lab; a stack the trainee makes: a DNS label."""
    text = Path(find("stack-file").path).read_text()
    text = text.replace("path: /root/shop.yml", "path: /root/../etc/cron.d/x;sh")
    text = text.replace("stacks: [shop]", "stacks: [shop, 'a b$(id)']")
    f = tmp_path / "files.yaml"
    f.write_text(text.replace("scenario: ", "x: ") + "scenario: " + str(find("stack-file").scenario) + "\n")
    with pytest.raises(ConfigError) as err:
        load_lesson(f)
    text = "\n".join(str(p) for p in err.value.problems)
    assert "setup.files.0.path: path on a node '/root/../etc/cron.d/x;sh' is not valid" in text
    assert "creates.stacks.1: stack name 'a b$(id)' is not a DNS label" in text
    ok = Path(find("stack-file").path).read_text().replace("node: node-1\n      path:", "node: node-7\n      path:")
    f.write_text(ok + "scenario: " + str(find("stack-file").scenario) + "\n")
    with pytest.raises(ConfigError) as err:
        lesson_scenario(load_lesson(f), "lab", Provider())
    assert "setup.files.0.node: no node node-7 in the lab" in str(err.value.problems[0])


def test_an_encrypted_detour_names_services_and_networks_the_lab_has(tmp_path):
    src = Path(find("encrypted-cache").path).read_text()
    f = tmp_path / "detour.yaml"
    bad = src.replace("network: vault", "network: 'v;reboot'").replace("peers: [web]", "peers: [web, 'a b']")
    f.write_text(bad + "scenario: " + str(find("encrypted-cache").scenario) + "\n")
    with pytest.raises(ConfigError) as err:
        load_lesson(f)
    text = "\n".join(str(p) for p in err.value.problems)
    assert "setup.faults.0.encrypted_detour.network: network name 'v;reboot'" in text
    assert "setup.faults.0.encrypted_detour.peers.1: service name 'a b'" in text
    f.write_text(src.replace("service: redis", "service: cache") + "scenario: " + str(find("encrypted-cache").scenario) + "\n")
    with pytest.raises(ConfigError) as err:
        lesson_scenario(load_lesson(f), "lab", Provider())
    assert "setup.faults.0.encrypted_detour: no service cache in" in str(err.value.problems[0])


def test_find_refuses_a_hostile_or_unknown_id():
    for ref in ("x;rm", "nope"):
        with pytest.raises(ConfigError):
            find(ref)


def test_stack_edits_change_a_copy():
    stack = {"services": {"web": {"networks": ["frontend", "backend"], "ports": ["8080:8000"]},
                          "db": {"networks": {"backend": {"aliases": ["pg"]}}}}}
    out, missing = edited_stack(stack, {"web": {"networks_remove": ["backend"], "ports": ["8080:8001"]},
                                        "db": {"constraints": ["node.labels.tier == database"]},
                                        "cache": {"replicas": 2}})
    assert out["services"]["web"] == {"networks": {"frontend": None}, "ports": ["8080:8001"]}
    assert out["services"]["db"]["deploy"]["placement"]["constraints"] == ["node.labels.tier == database"]
    assert missing == ["cache"]
    assert stack["services"]["web"]["networks"] == ["frontend", "backend"]   # the original is untouched


def test_a_rotated_secret_for_one_side_only():
    stack = {"services": {"web": {"secrets": ["db_password", {"source": "tls", "target": "/t"}]},
                          "db": {"secrets": ["db_password"]}},
             "secrets": {"db_password": {"external": True}, "tls": {"external": True}}}
    out, _ = edited_stack(stack, {"web": {"secret_swap": {"from": "db_password", "to": "db_password_v2"}}})
    assert out["services"]["web"]["secrets"] == [{"source": "db_password_v2", "target": "db_password"},
                                                 {"source": "tls", "target": "/t"}]
    assert out["services"]["db"]["secrets"] == ["db_password"]       # db never saw the rotation
    assert out["secrets"]["db_password_v2"] == {"external": True}    # up generates it, labelled


class Reader:
    """A swarm seen at one moment: replica counts, rolling updates, tasks."""

    def __init__(self, counts, rolling=(), tasks=()):
        self.counts, self.rolling, self._tasks = counts, list(rolling), list(tasks)

    def replicas(self):
        return self.counts

    def updating(self, names):
        return {n: "2026-12-04 02:00:00.5 +0000 UTC" for n in self.rolling if n in names}

    def created(self, ids):
        return {t.id: t.made for t in self._tasks if t.id in ids}

    def tasks(self, names, running_only=True, waiting_too=False):
        return [t for t in self._tasks if t.name.rsplit(".", 1)[0] in names]


class Task(TaskView):
    made = "2026-12-04 02:00:00.25 +0000 UTC"   # before the update began


def task(name, state, error="", desired="Running", made=None):
    t = Task(name, name, "node-1", state, desired, error)
    object.__setattr__(t, "made", made or Task.made)
    return t


def test_settled_means_running_or_waiting_with_a_reason():
    every = {"app_web", "app_db"}
    assert wait._settled(Reader({"app_web": (2, 2), "app_db": (1, 1)}), every)[0]
    # a rolling update under way: not yet, though the old tasks are all counted
    assert not wait._settled(Reader({"app_web": (2, 2), "app_db": (1, 1)}, ["app_web"],
                                    [task("app_web.1", "Running 1 second ago"),
                                     task("app_web.2", "Running 1 second ago")]), every)[0]
    # every task made since the update began: only Swarm's failure watch is left, settled
    assert wait._settled(Reader({"app_web": (2, 2), "app_db": (1, 1)}, ["app_web"],
                                [task("app_web.1", "Running 1 second ago", made="2026-12-04 02:00:01 +0000 UTC"),
                                 task("app_web.2", "Running 1 second ago", made="2026-12-04 02:00:00.6 +0000 UTC")]),
                         every)[0]
    # a constraint no node meets: the update never completes, and that is settled
    stuck = [task("app_db.1", "Pending 3 seconds ago", "no suitable node (scheduling constraints ...)")]
    assert wait._settled(Reader({"app_web": (2, 2), "app_db": (0, 1)}, ["app_db"], stuck), every)[0]
    # a replacement waiting for its predecessor to stop (no reason given) is on its way
    assert not wait._settled(Reader({"app_web": (2, 2), "app_db": (1, 1)}, ["app_web"],
                                    [task("app_web.1", "Pending 1 second ago"),
                                     task("app_web.2", "Running 5 seconds ago")]), every)[0]
    # stop-first: the replacement may say "port in use" while its predecessor stops
    assert not wait._settled(Reader({"app_web": (1, 2), "app_db": (1, 1)}, ["app_web"],
                                    [task("app_web.1", "Pending 1 second ago", "no suitable node (host-mode port "
                                          "already in use on 2 nodes)", desired="Ready")]), every)[0]
    # a task still starting is not
    assert not wait._settled(Reader({"app_web": (1, 2), "app_db": (1, 1)}, [],
                                    [task("app_web.2", "Starting 1 second ago")]), every)[0]
    assert not wait._settled(Reader({"app_web": (2, 2)}), every)[0]


def test_go_time_reads_what_docker_prints():
    from swarmlab.observe.running import go_time

    assert go_time("2026-12-04 08:36:52.884561234 +0000 UTC") == pytest.approx(1796373412.884561, abs=1e-5)
    assert go_time("2026-12-04 09:36:52 +0100 CET") == 1796373412.0
    assert go_time("") is None and go_time("not a time") is None


def test_replaced_holds_only_when_every_task_is_newer_than_the_checkpoint():
    from types import SimpleNamespace

    from swarmlab.checks import Evidence, LESSON_CHECKS
    from swarmlab.observe.topology import Service, Task

    def evidence(made):
        db = Service("app_db", "db", ["backend"], "dnsrr", [], [5432], 1,
                     [Task("app_db.1.aaa", "app_db", "node-3", {"backend": "10.0.1.9"})])
        swarm = SimpleNamespace(created=lambda ids: {i: made for i in ids})
        topo = SimpleNamespace(services={"app_db": db})
        return Evidence(SimpleNamespace(swarm=swarm), topo, since=1796373412.0)

    ok, seen = LESSON_CHECKS.make("replaced", {"service": "db"}).judge(evidence("2026-12-04 08:37:02.5 +0000 UTC"))
    assert ok and seen == "db.1 on node-3 made +10 s from the checkpoint, 10.0.1.9 on backend"
    ok, seen = LESSON_CHECKS.make("replaced", {"service": "db"}).judge(evidence("2026-12-04 08:36:40 +0000 UTC"))
    assert not ok and "-12 s from the checkpoint" in seen
    assert LESSON_CHECKS.make("replaced", {"service": "db"}).judge(evidence(""))[0] is False
    assert LESSON_CHECKS.make("replaced", {"service": "redis"}).judge(evidence("")) == (False, "no service redis")


def test_a_service_update_out_of_sequence_is_asked_again(monkeypatch):
    """CI, session 15: encrypted-cache's reset moved web while the stack's rolling update
    was writing its progress into the service, and Swarm refused the write."""
    from swarmlab import swarm_write as lesson_setup
    from swarmlab.result import CommandResult

    monkeypatch.setattr(lesson_setup.time, "sleep", lambda s: None)
    answers = [(1, "Error response from daemon: rpc error: code = Unknown desc = update out of sequence")] * 2
    answers += [(0, "")]
    seen = []

    class T:
        def run(self, cmd, timeout=None, warn=False):
            seen.append(cmd)
            code, err = answers[len(seen) - 1]
            return CommandResult("node-1", cmd, code, "", err)

    r = lesson_setup.service_write(T(), ["update", "--quiet", "--network-add", "name=vault,alias=web", "app_web"])
    assert r.ok and len(seen) == 3
    assert seen[0] == ["docker", "service", "update", "--quiet", "--network-add", "name=vault,alias=web", "app_web"]
    answers[:] = [(1, "Error: No such service: app_web")]
    seen.clear()
    assert not lesson_setup.service_write(T(), ["update", "app_web"]).ok and len(seen) == 1   # other errors: once
    answers[:] = [(1, "update out of sequence")] * 5
    seen.clear()
    assert not lesson_setup.service_write(T(), ["scale", "app_web=0"]).ok and len(seen) == 5   # bounded


def test_a_healed_node_counts_as_resynced_only_once_its_tasks_are_listed_too():
    """Recorded `network inspect -v` lines: a peer again, its tasks not yet; then both."""
    from types import SimpleNamespace

    from swarmlab.observe.gossip import resynced_probe
    from swarmlab.result import CommandResult

    peers = '[{"Name":"a","IP":"10.96.0.11"},{"Name":"c","IP":"10.96.0.13"}]'
    without = '{"app_web":{"Tasks":[{"Name":"app_web.1","Info":{"Host IP":"10.96.0.11"}}]}}'
    with_db = '{"app_db":{"Tasks":[{"Name":"app_db.1","Info":{"Host IP":"10.96.0.13"}}]},' + without[1:]
    outputs = [f"{peers}|{without}\n", f"{peers}|{with_db}\n"]
    watcher = SimpleNamespace(name="node-1", transport=SimpleNamespace(
        run=lambda *a, **k: CommandResult("node-1", "inspect", 0, outputs.pop(0), "", 0.1)))
    node = SimpleNamespace(name="node-3", address="10.96.0.13", swarm_addr="10.96.0.13", data_addr="10.96.0.13")
    probe = resynced_probe(watcher, node)
    assert probe() == (False, "node-1 does not list node-3's tasks yet")
    assert probe() == (True, "node-1 lists node-3 and its tasks")


def test_names_are_known_once_every_node_on_the_network_lists_exactly_the_running_tasks():
    """A replaced redis task: a node that still lists the old address, or not yet the new
    one, is behind; a node cut off on purpose, and the ingress network, are not asked."""
    from types import SimpleNamespace

    from swarmlab.observe.gossip import names_known_probe
    from swarmlab.result import CommandResult

    views = {}  # node -> what its gossip lists on backend

    def node(name):
        def run(args, **k):
            assert args[-1] == "backend", args   # ingress is the routing mesh's: never asked
            return CommandResult(name, "inspect", 0, json.dumps(views[name]), "", 0.1)
        return SimpleNamespace(name=name, transport=SimpleNamespace(run=run))

    tasks = [TaskView("app_web.1", "w1", "node-1", "Running 3 seconds ago", "Running"),
             TaskView("app_redis.1", "r2", "node-3", "Running 1 second ago", "Running"),
             TaskView("app_web.2", "w2", "node-2", "Running 3 seconds ago", "Running")]
    addresses = {"w1": {"backend": "10.1.0.5", "ingress": "10.0.0.5"}, "w2": {"backend": "10.1.0.6"},
                 "r2": {"backend": "10.1.0.9"}}
    reader = SimpleNamespace(
        hosts=[node("node-1"), node("node-2"), node("node-3")], service_names=lambda: ["app_web", "app_redis"],
        tasks=lambda names: tasks, task_addresses=lambda ids: addresses,
        networks=lambda: [SimpleNamespace(name="backend")])

    def redis(*ips, web=("10.1.0.5",)):
        return {"app_redis": {"Tasks": [{"EndpointIP": ip} for ip in ips]},
                "app_web": {"Tasks": [{"EndpointIP": ip} for ip in web]}}

    probe = names_known_probe(reader, ["app_redis", "app_web"], skip={"node-2"})
    views.update({"node-1": redis("10.1.0.7"), "node-2": {}, "node-3": redis("10.1.0.9")})
    assert probe() == (False, "not yet listed as running: node-1 on backend: app_redis")   # the old task
    views["node-1"] = redis("10.1.0.7", "10.1.0.9")
    assert not probe()[0]                                                               # old and new
    views["node-1"] = {}
    assert not probe()[0]                                                               # neither
    views["node-1"] = redis("10.1.0.9", web=())
    assert not probe()[0]                                                               # web forgotten
    # node-2 is cut off: not asked, and its web task may be listed or not
    views.update({"node-1": redis("10.1.0.9", web=("10.1.0.5", "10.1.0.6")), "node-3": redis("10.1.0.9")})
    assert probe() == (True, "listed everywhere")                                       # node-2 is cut off


def test_a_service_wanted_at_zero_is_settled_while_its_tasks_stop():
    every = {"app_web", "app_db"}
    # a lesson's checkpoint deployed web at 0: its two old tasks still stop, settled
    assert wait._settled(Reader({"app_web": (2, 0), "app_db": (1, 1)}, ["app_web"]), every)[0]
    assert not wait._settled(Reader({"app_web": (0, 2), "app_db": (1, 1)}), every)[0]


def test_side_by_side_replaces_only_what_will_change():
    from swarmlab.lessons import side_by_side as sbs

    stack = {"services": {"web": {"image": "w", "deploy": {"replicas": 2}}, "db": {"image": "d"},
                          "redis": {"image": "r", "deploy": {"replicas": 1}},
                          "agent": {"image": "a", "deploy": {"mode": "global"}}}}
    live = {"web": "L1", "db": "L2", "redis": "L3", "agent": "L4"}
    before = sbs.record(stack, live, [])
    assert sbs.to_replace(stack, before, live, []) == []          # nothing changed: nothing rolls
    assert sbs.to_replace(stack, None, live, []) == []            # no record: Swarm's own rolling
    # the trainee changed web (two replicas): replaced side by side; db (one) rolls as Swarm does
    assert sbs.to_replace(stack, before, {**live, "web": "X", "db": "Y"}, []) == ["web"]
    # the next lesson defines web otherwise
    edited = {"services": {**stack["services"], "web": {"image": "w", "ports": ["8080:8001"],
                                                          "deploy": {"replicas": 2}}}}
    assert sbs.to_replace(edited, before, live, []) == ["web"]
    # a fault changes redis now, or changed it at the previous checkpoint: replaced, even at one replica
    assert sbs.to_replace(stack, before, live, ["redis"]) == ["redis"]
    assert sbs.to_replace(stack, sbs.record(stack, live, ["redis", "agent"]), live, []) == ["redis"]
    # a service the lab does not run yet is made by the deploy, not replaced
    assert sbs.to_replace(stack, before, {"db": "L2"}, ["web"]) == []
    zero = sbs.at_zero(stack, ["web", "db"])
    assert zero["services"]["web"]["deploy"]["replicas"] == 0 and zero["services"]["db"]["deploy"]["replicas"] == 0
    assert stack["services"]["web"]["deploy"]["replicas"] == 2 and "deploy" not in stack["services"]["db"]
    assert [sbs.replicas(s) for s in stack["services"].values()] == [2, 1, 1, 0]


def test_a_drill_and_a_lesson_drop_traffic_through_one_chain_helper():
    """netfilter.drop_in: the chain made when missing, the rules appended, each hook added
    once; what a value holds stays one word."""
    from swarmlab.netfilter import drop_in, rules_of

    cmd = drop_in("SWARMLAB-X", [("-s", "10.0.0.2; reboot", "-j", "DROP")], hooks=("OUTPUT",))
    assert cmd.startswith("{ iptables -N SWARMLAB-X 2>/dev/null || true; } && ")
    assert "{ iptables -A SWARMLAB-X -s '10.0.0.2; reboot' -j DROP; }" in cmd
    assert cmd.endswith("{ iptables -C OUTPUT -j SWARMLAB-X 2>/dev/null || iptables -I OUTPUT -j SWARMLAB-X; }")
    assert "INPUT" not in cmd and rules_of("SWARMLAB-X") == "iptables -S SWARMLAB-X 2>/dev/null"
