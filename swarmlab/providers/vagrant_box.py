"""`swarmlab vagrant box build`: a libvirt box made offline, for machines that cannot
download one (issue #5). Debian from debootstrap (the host's apt mirror, as for the
images) with Docker, sshd, sudo and verify's tools; a VM boots its kernel directly (the
box carries vmlinuz and initrd.img and its own Vagrantfile points libvirt at them), so
the disk is a bare ext4 file system made by `mkfs.ext4 -d` — no partition table, no boot
loader, no loop device, no mount.

The vagrant user gets Vagrant's well-known insecure key (Vagrant swaps it for a fresh one
at the first `vagrant up`); SSH host keys are made by each VM at its first boot, never
baked into the box, and said on its serial console at every boot for the controller to pin."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, List, Optional

from ..errors import PreflightError, SwarmlabError

BOX_NAME = "swarmlab/bookworm"
SUITE = "bookworm"
PACKAGES = [
    "systemd-sysv",
    "udev",
    "kmod",
    "linux-image-amd64",
    "initramfs-tools",
    "openssh-server",
    "sudo",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "util-linux",
    "ca-certificates",
    "docker.io",
    "tcpdump",
    "iputils-ping",
    "dnsutils",
    "netcat-openbsd",
    "python3",
    "iperf3",
    # Debian's kernel enables AppArmor: without apparmor_parser, Docker starts no container
    "apparmor",
]

BOX_VAGRANTFILE = """\
# The box's own Vagrantfile: boot the kernel it carries (the disk has no boot loader).
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
  end
end
"""

HOSTKEYS_UNIT = """\
[Unit]
Description=SSH host keys of this VM, made at its first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=ssh.service
"""

# The host key said on the serial console at every boot, before sshd starts: the
# controller reads it from the console log libvirt writes on this machine, a channel that
# does not cross the network, and pins it before the first SSH connection. Through the
# kernel's log (the console is ttyS0): the kernel writes a line to the console whole, where a
# write to /dev/ttyS0 drains at the emulated UART's pace and kernel messages land inside it
# (a VM under emulation once said a key nobody could read).
SAY_KEY = """\
#!/bin/sh
set -eu
echo "<5>swarmlab-host-key $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" > /dev/kmsg
"""

SAY_KEY_UNIT = """\
[Unit]
Description=This VM's SSH host key, said on its serial console
After=swarmlab-hostkeys.service
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/swarmlab-say-host-key

[Install]
WantedBy=ssh.service
"""


def insecure_key() -> str:
    """Vagrant's published insecure public key, from the installed vagrant package."""
    for base in ("/usr/share/rubygems-integration/all/gems", "/usr/share/vagrant", "/opt/vagrant"):
        for path in sorted(Path(base).glob("**/keys/vagrant.pub")) if Path(base).exists() else []:
            return path.read_text().strip()
    raise PreflightError(
        "Vagrant's insecure public key (keys/vagrant.pub) was not found", hint="apt-get install vagrant"
    )


def _run(argv: List[str], say, what: str, timeout: float = 3600, **kw) -> str:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        raise SwarmlabError(
            f"{what} failed (exit {proc.returncode}):\n  "
            + "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[-10:])
        )
    say(f"{what}: {time.monotonic() - started:.0f}s")
    return proc.stdout


def build(
    out: Path, say: Callable[[str], None] = lambda s: None, size_gb: int = 8, add: bool = True, name: str = BOX_NAME
) -> Path:
    """Make out/swarmlab-bookworm.box (and `vagrant box add` it unless add=False)."""
    missing = [t for t in ("debootstrap", "mkfs.ext4", "qemu-img", "tar") if not shutil.which(t)]
    if add and not shutil.which("vagrant"):
        missing.append("vagrant")
    if missing:
        raise PreflightError(
            f"missing {', '.join(missing)}",
            hint="apt-get install debootstrap e2fsprogs qemu-utils vagrant (scripts/setup-vagrant.sh)",
        )
    key = insecure_key()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "build"
    shutil.rmtree(work, ignore_errors=True)
    root = work / "rootfs"
    work.mkdir()
    # no mirror argument: debootstrap's default, as for the container images
    _run(["debootstrap", "--include=" + ",".join(PACKAGES), SUITE, str(root)], say, "debootstrap (Debian + Docker)")
    _configure(root, key)
    kernel = sorted(root.glob("boot/vmlinuz-*"))
    initrd = sorted(root.glob("boot/initrd.img-*"))
    if not kernel or not initrd:
        raise SwarmlabError(f"no kernel or initrd in {root}/boot after debootstrap")
    shutil.copy(kernel[-1], work / "vmlinuz")
    shutil.copy(initrd[-1], work / "initrd.img")
    raw = work / "box.raw"
    _run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(root), str(raw), f"{size_gb}G"], say, "mkfs.ext4 -d")
    _run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(work / "box.img")], say, "qemu-img convert")
    raw.unlink()
    (work / "metadata.json").write_text(json.dumps({"provider": "libvirt", "format": "qcow2", "virtual_size": size_gb}))
    (work / "Vagrantfile").write_text(BOX_VAGRANTFILE)
    box = out / "swarmlab-bookworm.box"
    _run(
        ["tar", "-C", str(work), "-cf", str(box), "metadata.json", "Vagrantfile", "box.img", "vmlinuz", "initrd.img"],
        say,
        "tar",
    )
    shutil.rmtree(work, ignore_errors=True)
    if add:
        _run(["vagrant", "box", "add", "--force", "--name", name, str(box)], say, f"vagrant box add {name}")
    return box


def _configure(root: Path, key: str) -> None:
    """A VM's first boot: DHCP on eth0, sshd with keys of its own, vagrant with sudo."""
    (root / "etc/hostname").write_text("swarmlab\n")
    (root / "etc/fstab").write_text("/dev/vda / ext4 defaults,errors=remount-ro 0 1\n")
    (root / "etc/network/interfaces").write_text(
        "auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n"
    )
    (root / "etc/resolv.conf").unlink(missing_ok=True)
    for k in root.glob("etc/ssh/ssh_host_*"):
        k.unlink()
    (root / "usr/local/sbin/swarmlab-say-host-key").write_text(SAY_KEY)
    (root / "usr/local/sbin/swarmlab-say-host-key").chmod(0o755)
    wants = root / "etc/systemd/system/ssh.service.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit, text in (("swarmlab-hostkeys.service", HOSTKEYS_UNIT), ("swarmlab-say-host-key.service", SAY_KEY_UNIT)):
        (root / "etc/systemd/system" / unit).write_text(text)
        link = wants / unit
        if not link.is_symlink():
            link.symlink_to(f"/etc/systemd/system/{unit}")
    (root / "etc/sudoers.d/vagrant").write_text("vagrant ALL=(ALL) NOPASSWD:ALL\n")
    (root / "etc/sudoers.d/vagrant").chmod(0o440)
    subprocess.run(
        ["chroot", str(root), "useradd", "-m", "-s", "/bin/bash", "-G", "docker", "vagrant"],
        check=True,
        capture_output=True,
    )
    ssh = root / "home/vagrant/.ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    (ssh / "authorized_keys").write_text(key + "\n")
    subprocess.run(["chroot", str(root), "chown", "-R", "vagrant:vagrant", "/home/vagrant/.ssh"], check=True)
    (root / "etc/machine-id").write_text("")  # each VM makes its own at first boot
    subprocess.run(["chroot", str(root), "apt-get", "clean"], capture_output=True)


def installed(name: str = BOX_NAME) -> Optional[str]:
    if not shutil.which("vagrant"):
        return None
    out = subprocess.run(["vagrant", "box", "list"], capture_output=True, text=True).stdout
    return next((line for line in out.splitlines() if line.split()[:1] == [name]), None)
