"""The SSH transport against a real sshd (a container of the node image on this engine):
pinned host key accepted, a wrong one refused, binary stdin streamed, exit codes and both
streams kept; a wrong user and an unreachable port each give one clear error."""
import socket
import subprocess
import time

import pytest

from swarmlab import labels as L
from swarmlab.errors import PreflightError
from swarmlab.images import image_ref
from swarmlab.transport.ssh import SSHTransport

from ..conftest import P

pytestmark = pytest.mark.integration
LAB = f"{P}-ssh"


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
        for _ in range(100):   # sshd's pid exists a moment before it listens
            try:
                socket.create_connection((ip, 22), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
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


def test_more_commands_at_once_than_sshd_allows_sessions_all_run(sshd):
    """verify runs every pair of a host at once; sshd refuses an 11th session on one
    connection (MaxSessions 10) — commands wait for a slot, on one shared connection."""
    from concurrent.futures import ThreadPoolExecutor

    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], host_key=sshd["host_key"])
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda i: t.run(f"sleep 0.5; echo {i}", warn=True), range(24)))
    assert [(r.exited, r.stdout) for r in results] == [(0, f"{i}\n") for i in range(24)]
    conns = t.run("ss -Htn state established '( sport = :22 )' | wc -l").stdout.strip()
    assert conns == "1", conns
    t.close()


def test_known_hosts_file_of_the_inventory(sshd):
    kh = sshd["dir"] / "known_hosts"
    kh.write_text(f"{sshd['ip']} {sshd['host_key']}\n")
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], known_hosts=str(kh))
    assert t.run("id -un").stdout.strip() == "root"


def test_the_users_ssh_config_does_not_redirect_the_inventory(sshd, tmp_path, monkeypatch):
    """A `Host` block in ~/.ssh/config (another HostName, port, key, a ProxyJump) and a
    ~/.fabric.yaml would each send fabric elsewhere; the inventory's fields alone count.
    Checked both ways: the same files do redirect a default fabric Connection."""
    from fabric import Connection

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(f"Host {sshd['ip']}\n  HostName 127.0.0.9\n  Port 2299\n"
                                          f"  IdentityFile {home}/nokey\n  ProxyJump nowhere.invalid\n")
    (home / ".fabric.yaml").write_text(f"connect_kwargs:\n  key_filename: {home}/nokey2\n")
    monkeypatch.setenv("HOME", str(home))
    default = Connection(sshd["ip"], user="root")
    assert default.host == "127.0.0.9" and default.gateway is not None   # what fabric would do
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], host_key=sshd["host_key"])
    conn = t.connection()
    assert (conn.host, conn.port, conn.gateway) == (sshd["ip"], 22, None)
    assert conn.connect_kwargs["key_filename"] == [sshd["key_file"]]   # none merged in
    assert t.run("id -un").stdout.strip() == "root"
    t.close()


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


def test_trust_on_first_use_records_the_key_and_then_pins_it(sshd):
    """Only when asked: the offered key is accepted once, written down, and from then on
    it is the pinned one (a different key is refused)."""
    kh = sshd["dir"] / "tofu_known_hosts"
    t = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], record_to=str(kh))
    assert t.run("echo hi").stdout == "hi\n"
    assert t.recorded == sshd["host_key"]
    assert kh.read_text() == f"{sshd['ip']} {sshd['host_key']}\n"
    t.close()
    pinned = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], known_hosts=str(kh))
    assert pinned.run("true").ok
    d = sshd["dir"]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "third")], check=True)
    kh.write_text(f"{sshd['ip']} " + " ".join((d / "third.pub").read_text().split()[:2]) + "\n")
    again = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], known_hosts=str(kh), record_to=str(kh))
    with pytest.raises(PreflightError, match="does not match the pinned one"):
        again.run("true")


def test_a_non_root_user_runs_through_sudo_or_says_why_not(sshd):
    """A user who is not root: every command goes through `sudo -n`; without sudo the
    error says so (the node image has no sudo: the failure is the one a user would see)."""
    cont_cmd = "id -u nobody2 >/dev/null 2>&1 || useradd -m nobody2"
    root = SSHTransport("sshd", sshd["ip"], key_file=sshd["key_file"], host_key=sshd["host_key"])
    root.run(cont_cmd)
    root.run("mkdir -p /home/nobody2/.ssh && cp /root/.ssh/authorized_keys /home/nobody2/.ssh/ && "
             "chown -R nobody2 /home/nobody2/.ssh")
    t = SSHTransport("sshd", sshd["ip"], user="nobody2", key_file=sshd["key_file"], host_key=sshd["host_key"])
    assert t.become
    r = t.run("id -u", warn=True)
    assert not r.ok and "sudo" in r.stderr
    plain = SSHTransport("sshd", sshd["ip"], user="nobody2", key_file=sshd["key_file"], host_key=sshd["host_key"],
                         become=False)
    assert plain.run("id -un").stdout.strip() == "nobody2"
