"""A node's commands, entered directly (nsenter) or through `docker exec`, on a real
container of the node image: the same environment, streams, exit codes and stdin either
way; a timeout kills the command inside the node; a paused or absent container gets
Docker's own answer."""
import hashlib
import subprocess

import pytest

from swarmlab import labels as L
from swarmlab.images import image_ref
from swarmlab.transport.docker_exec import DockerExecTransport, enter_argv

from ..conftest import P

pytestmark = pytest.mark.integration
LAB = f"{P}-transport"
NAME = f"swarmlab-{LAB}-node-1"


@pytest.fixture(scope="module")
def node(engine):
    from swarmlab.images import ImageBuilder

    ImageBuilder(engine).build(("node",))
    cont = engine.containers.run(image_ref("node"), detach=True, name=NAME, hostname="node-1",
                                 environment={"SWARMLAB_BIP": "10.1.2.1/24"}, entrypoint=["sleep", "infinity"],
                                 labels=L.stamp(LAB, L.ROLE_NODE, node="node-1"))
    try:
        yield cont
    finally:
        cont.remove(force=True)


def both(node):
    return DockerExecTransport(NAME, "node-1"), DockerExecTransport(NAME, "node-1", enter=False)


def test_entering_is_what_docker_exec_gives(node):
    entered, execed = both(node)
    assert enter_argv(NAME) is not None, "root on the engine's machine: the node is entered directly"
    probe = "env | sort; pwd; id -u; hostname; for ns in net mnt pid uts; do readlink /proc/1/ns/$ns /proc/self/ns/$ns; done"
    a, b = entered.run(probe), execed.run(probe)
    assert a.stdout == b.stdout, (a.stdout, b.stdout)
    lines = a.stdout.splitlines()
    assert "SWARMLAB_BIP=10.1.2.1/24" in lines and "HOSTNAME=node-1" in lines and "HOME=/root" in lines
    pairs = lines[-8:]
    assert pairs[0::2] == pairs[1::2], f"the node's own network, mount, pid and uts namespaces: {pairs}"


def test_streams_exit_codes_and_stdin(node, tmp_path):
    blob = bytes(range(256)) * 4096   # 1 MiB, every byte value
    path = tmp_path / "blob"
    path.write_bytes(blob)
    for t in both(node):
        r = t.run("echo out; echo err >&2; exit 3", warn=True)
        assert (r.exited, r.stdout, r.stderr) == (3, "out\n", "err\n")
        assert t.run("sha256sum | cut -d' ' -f1", stdin=blob).stdout.strip() == hashlib.sha256(blob).hexdigest()
        with open(path, "rb") as f:
            assert t.run("wc -c", stdin=f).stdout.strip() == str(len(blob))


def test_a_timeout_kills_the_command_inside_the_node(node):
    entered, _ = both(node)
    r = entered.run("sleep 57; echo late", timeout=1, warn=True)
    assert r.exited == 124 and "late" not in r.stdout   # the timeout's own exit code: it did not wait 57 s
    left = node.exec_run(["sh", "-c", "ps -eo args | grep -c '^sleep 57'"]).output.decode().strip()
    assert left == "0", left


def test_a_paused_or_absent_container_gets_dockers_answer(node):
    entered, _ = both(node)
    subprocess.run(["docker", "pause", NAME], check=True)
    try:
        assert enter_argv(NAME) is None
        r = entered.run("echo hi", warn=True, timeout=20)
        assert r.exited != 0 and "paused" in r.stderr, r
    finally:
        subprocess.run(["docker", "unpause", NAME], check=True)
    assert entered.run("echo hi").stdout == "hi\n"
    r = DockerExecTransport(f"swarmlab-{LAB}-none").run("echo hi", warn=True)
    assert r.exited != 0 and "No such container" in r.stderr, r


def test_a_command_whose_own_nsenter_fails_runs_once(node):
    """Its stderr starts like the entering's would: it is not run again through docker exec."""
    entered, _ = both(node)
    r = entered.run("echo x >> /tmp/once; nsenter -t 999999 -n true", warn=True)
    assert r.exited != 0 and r.stderr.startswith("nsenter: "), r
    assert entered.run("wc -l < /tmp/once").stdout.strip() == "1"
