"""`swarmlab shell` on an SSH host: OpenSSH with the pinned host key (issue #30)."""
from __future__ import annotations


def test_a_shell_on_an_ssh_host_pins_its_key_in_memory_and_leaves_no_file(tmp_path):
    """`swarmlab shell` execs OpenSSH with the pinned key: in a memfd open across the exec,
    never a temporary known_hosts file left behind in /tmp (issue #30)."""
    import glob
    import os

    from swarmlab.transport.ssh import SSHTransport

    before = set(glob.glob("/tmp/swarmlab-known-*"))
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlabBlabBlabBlabBlabBlabBlabBlabBlabBlabBlab"
    argv = SSHTransport("alpha", "127.0.0.2", port=2222, user="ops", key_file="/k", host_key=key).interactive()
    known = next(a.split("=", 1)[1] for a in argv if a.startswith("UserKnownHostsFile="))
    assert known.startswith("/dev/fd/")
    fd = int(known.rsplit("/", 1)[1])
    try:
        assert os.get_inheritable(fd)
        with open(known) as f:
            assert f.read() == f"[127.0.0.2]:2222 {key}\n"
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:")
    finally:
        os.close(fd)
    assert set(glob.glob("/tmp/swarmlab-known-*")) == before
    assert "StrictHostKeyChecking=yes" in argv and argv[-2:] == ["sudo", "-i"]
