"""The SSH transport against a real sshd (a container of the node image on this engine):
pinned host key accepted, a wrong one refused, binary stdin streamed, exit codes and both
streams kept; a wrong user and an unreachable port each give one clear error."""
import subprocess
import time

import pytest

from swarmlab import labels as L
from swarmlab.errors import PreflightError
from swarmlab.images import image_ref
from swarmlab.transport.ssh import SSHTransport

pytestmark = pytest.mark.integration
LAB = "itest-ssh"


@pytest.fixture(scope="module")
def sshd(engine, tmp_path_factory):
    from swarmlab.images import ImageBuilder

    ImageBuilder(engine).build(("node",))
    d = tmp_path_factory.mktemp("ssh")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id")], check=True)
    pub = (d / "id.pub").read_text().strip()
    cont = engine.containers.run(
        image_ref("node"), detach=True, name=f"swarmlab-{LAB}-sshd", labels=L.stamp(LAB, L.ROLE_NODE, node="sshd"),
        entrypoint=["sh", "-c", "ssh-keygen -A >/dev/null && mkdir -p /run/sshd /root/.ssh && "
                                f"echo '{pub}' > /root/.ssh/authorized_keys && exec /usr/sbin/sshd -D -e"])
    try:
        for _ in range(100):
            cont.reload()
            code, out = cont.exec_run(["sh", "-c", "cat /etc/ssh/ssh_host_ed25519_key.pub && pidof sshd"])
            if code == 0:
                break
            time.sleep(0.1)
        host_key = " ".join(out.decode().split()[:2])
        ip = cont.attrs["NetworkSettings"]["IPAddress"]
        yield {"ip": ip, "key_file": str(d / "id"), "host_key": host_key, "dir": d}
    finally:
        cont.remove(force=True)


def test_pinned_key_runs_commands_with_streams_and_exit_codes(sshd):
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], host_key=sshd["host_key"])
    r = t.run("echo out; echo err >&2; exit 3", warn=True)
    assert (r.exited, r.stdout, r.stderr) == (3, "out\n", "err\n")
    blob = bytes(range(256)) * 4096  # 1 MiB, every byte value
    r = t.run("sha256sum | cut -d' ' -f1", stdin=blob)
    import hashlib
    assert r.stdout.strip() == hashlib.sha256(blob).hexdigest()
    assert t.run("sleep 5", timeout=1, warn=True).exited == 124
    t.close()


def test_known_hosts_file_of_the_inventory(sshd):
    kh = sshd["dir"] / "known_hosts"
    kh.write_text(f"{sshd['ip']} {sshd['host_key']}\n")
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], known_hosts=str(kh))
    assert t.run("id -un").stdout.strip() == "root"


def test_wrong_host_key_is_refused(sshd):
    d = sshd["dir"]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "other")], check=True)
    other = " ".join((d / "other.pub").read_text().split()[:2])
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], host_key=other)
    with pytest.raises(PreflightError, match="host key does not match the pinned one"):
        t.run("true")


def test_wrong_user_and_unreachable_port_are_clear_errors(sshd):
    t = SSHTransport("sshd", sshd["ip"], user="nobody", key_file=sshd["key_file"], host_key=sshd["host_key"])
    with pytest.raises(PreflightError, match="authentication failed"):
        t.run("true")
    t = SSHTransport("sshd", sshd["ip"], port=2299, key_file=sshd["key_file"], host_key=sshd["host_key"],
                     connect_timeout=3)
    with pytest.raises(PreflightError, match="unreachable"):
        t.run("true")
