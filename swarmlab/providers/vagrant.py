"""VMs made by Vagrant (issue #5): `vagrant up` on vagrant/Vagrantfile, then the SSH
provider on them. The inventory is generated: users, keys and names from `vagrant
ssh-config`, the addresses from the private network (the one Swarm advertises, never the
NAT interface), and the host keys collected and pinned by swarmlab — Vagrant's own
ssh-config turns checking off (StrictHostKeyChecking no, UserKnownHostsFile /dev/null).

One lab per Vagrant folder: its name is kept in <folder>/.swarmlab/lab."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml

from .. import safefs
from ..addressing import DEFAULT_PARENT, AddressPlan, choose_pool
from ..capabilities import Capabilities
from ..config.inventory import apply_nodes, load_inventory
from ..config.model import Scenario
from ..errors import PreflightError, SwarmlabError
from .base import Host, LabInfo, Made, Provider
from .ssh import SSHProvider
from .vagrant_config import VAGRANT_DIR, VagrantConfig, load_config

PROVIDERS = ("libvirt", "virtualbox")
LIBVIRT_BOOT = Path("/var/lib/libvirt/boot")
CONSOLES = Path("/var/log/libvirt/qemu")  # each VM's serial console, logged by libvirt on this machine
# At a line's start (an older box wrote to ttyS0) or after the kernel's time stamp, which
# another writer's unfinished line may precede ("[  OK  ] Sta[   12.3] swarmlab-host-key ...").
# An ed25519 key is 51 bytes, 68 base64 characters: a line cut short never matches.
SAID_KEY = re.compile(r"(?:^|\] )swarmlab-host-key (ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43})\r?$", re.M)
SOFT_EMULATION_MINUTES = 5  # per VM, measured here (DESIGN.md); KVM: well under one


def parse_ssh_config(text: str) -> Dict[str, Dict[str, str]]:
    """`vagrant ssh-config` -> {host: {option (lower case): value}}; as in ssh_config, the
    first value of an option wins (Vagrant may list several IdentityFile lines)."""
    out: Dict[str, Dict[str, str]] = {}
    current: Optional[Dict[str, str]] = None
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) < 2 or parts[0].startswith("#"):
            continue
        key, value = parts[0].lower(), parts[1].strip().strip('"')
        if key == "host":
            current = out.setdefault(value, {})
        elif current is not None:
            current.setdefault(key, value)
    return out


def inventory_doc(cfg: VagrantConfig, ssh: Dict[str, Dict[str, str]], host_keys: Dict[str, str]) -> dict:
    """The inventory of the VMs: SSH to the private address (port 22) with Vagrant's user
    and key, the host key pinned; Swarm advertises the private address too."""
    labels = dict(cfg.labels)
    hosts = {}
    missing = [n for n in cfg.names() if n not in ssh]
    if missing:
        raise SwarmlabError(
            f"vagrant ssh-config has no entry for {', '.join(missing)}",
            hint="is every VM up? vagrant status (in vagrant/)",
        )
    for name in cfg.names():
        entry = ssh[name]
        ip = cfg.ip(name)
        hosts[name] = {
            "address": ip,
            "port": 22,
            "user": entry.get("user", "vagrant"),
            "key_file": entry.get("identityfile", ""),
            "role": cfg.role(name),
            "labels": dict(labels.get(name, ())),
            "advertise_addr": ip,
            "data_path_addr": ip,
            "host_key": host_keys[name],
        }
    return {"apiVersion": "swarmlab/v1", "kind": "Inventory", "name": "vagrant", "hosts": hosts}


def said_key(console: str) -> Optional[str]:
    """The last host key a console log says (a VM's latest boot appends the newest)."""
    found = SAID_KEY.findall(console)
    return found[-1] if found else None


# -- KVM, or software emulation ---------------------------------------------------
def boot_test(
    kernel: Path, accel: str = "kvm", timeout: float = 20.0, qemu: str = "qemu-system-x86_64"
) -> Tuple[bool, str]:
    """Boot `kernel` with no disk for a few seconds: it works when the kernel gets as far as
    looking for its root file system (or panics for want of one). Returns (ok, what was seen)."""
    if not shutil.which(qemu):
        return False, f"{qemu} not found"
    argv = [
        qemu,
        "-machine",
        f"accel={accel}",
        "-m",
        "256",
        "-nographic",
        "-no-reboot",
        "-kernel",
        str(kernel),
        "-append",
        "console=ttyS0 panic=-1 root=/dev/nonexistent rootwait=0",
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        text = (proc.stdout + proc.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as exc:
        text = ((exc.stdout or b"") + (exc.stderr or b"")).decode(errors="replace")
    booted = "Linux version" in text and any(m in text for m in ("VFS:", "Kernel panic", "Run /init", "Freeing unused"))
    if booted:
        return True, "the kernel booted"
    text = re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|c)", "", text)  # the firmware's terminal resets
    kernel_said = [line for line in text.splitlines() if line.startswith("[")]
    return False, (
        f"the kernel stopped after: {kernel_said[-1][-120:]}"
        if kernel_said
        else f"no kernel output within {timeout:.0f}s"
    )


def choose_driver(kernel: Optional[Path], say: Callable[[str], None], count: int) -> str:
    """kvm when a kernel boots under KVM here, else qemu (software emulation) with a warning."""
    if kernel is None or not kernel.exists():
        return "kvm"
    if os.path.exists("/dev/kvm"):
        ok, seen = boot_test(kernel, "kvm", timeout=10)
        if ok:
            return "kvm"
        why = f"a test boot under KVM failed ({seen})"
    else:
        why = "no /dev/kvm"
    say(
        f"warning: {why}: the VMs run under QEMU software emulation, about {SOFT_EMULATION_MINUTES} "
        f"minutes per VM to boot ({count} VMs: allow {SOFT_EMULATION_MINUTES * count} minutes)"
    )
    return "qemu"


# -- the provider ------------------------------------------------------------------
class VagrantProvider(Provider):
    name = "vagrant"
    features = frozenset({"compare", "own_swarm"})  # the SSH provider's, on the VMs, whose swarm is the lab's
    host_access_grants = "the VM's engine and files: root in that VM, not on this machine"

    def __init__(self, folder: Path = VAGRANT_DIR, vm_provider: str = "libvirt", client=None):
        self.folder = Path(folder)
        self.vm_provider = vm_provider
        self._client = client
        self.state_dir = self.folder / ".swarmlab"
        self.env = dict(os.environ)
        if self.env.get("SWARMLAB_VAGRANT_LAB"):  # vagrant runs in the folder: make it absolute
            self.env["SWARMLAB_VAGRANT_LAB"] = str(Path(self.env["SWARMLAB_VAGRANT_LAB"]).resolve())
        self._ssh = None

    @classmethod
    def from_options(cls, client=None) -> "VagrantProvider":  # type: ignore[override]
        return cls(vm_provider=os.environ.get("SWARMLAB_VAGRANT_PROVIDER", "libvirt"), client=client)

    def remove_command(self, lab: str) -> str:
        return f"swarmlab down --provider vagrant {lab}"

    def nodes_for(self, scenario: Scenario) -> Scenario:
        """The scenario on the VMs of lab.yaml (names, roles, labels)."""

        cfg = load_config(self.folder, self.env)
        labels = dict(cfg.labels)
        return apply_nodes(
            scenario,
            [(n, cfg.role(n), labels.get(n, ())) for n in cfg.names()],
            str(self.env.get("SWARMLAB_VAGRANT_LAB") or self.folder / "lab.yaml"),
        )

    # state: which lab the folder's VMs hold, and the inventory made for them
    @property
    def inventory_path(self) -> Path:
        return self.state_dir / "inventory.yaml"

    def _lab(self) -> Optional[str]:
        p = self.state_dir / "lab"
        return p.read_text().strip() if p.exists() else None

    def ssh(self):
        """The SSH provider over the generated inventory (None before the VMs exist)."""
        if self._ssh is None and self.inventory_path.exists():
            self._ssh = SSHProvider(load_inventory(self.inventory_path), client=self._client)
        return self._ssh

    def vagrant(
        self, *args: str, timeout: float = 3600, check: bool = True, say: Optional[Callable[[str], None]] = None
    ) -> subprocess.CompletedProcess:
        """Run vagrant in the folder; with `say`, its progress lines (==> swarm-1: ...) are
        passed on as they come (a `vagrant up` under emulation takes minutes)."""
        if say is None:
            proc = subprocess.run(
                ["vagrant", *args], cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=timeout
            )
        else:
            out: List[str] = []
            deadline = time.monotonic() + timeout
            with subprocess.Popen(
                ["vagrant", *args],
                cwd=self.folder,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as p:
                assert p.stdout is not None  # stdout=PIPE
                for line in p.stdout:
                    out.append(line)
                    if line.startswith("==> ") and "  -- " not in line:
                        say(line.rstrip()[4:])
                    if time.monotonic() > deadline:
                        p.kill()
                        break
                code = p.wait()
            proc = subprocess.CompletedProcess(p.args, code, "".join(out), "")
        if check and proc.returncode != 0:
            raise SwarmlabError(
                f"vagrant {' '.join(args)} failed (exit {proc.returncode}):\n  "
                + "\n  ".join((proc.stderr or proc.stdout).strip().splitlines()[-12:]),
                hint=f"look in {self.folder} (vagrant status); swarmlab down --provider vagrant removes the VMs",
            )
        return proc

    def preflight(self) -> None:
        problems = []
        if not shutil.which("vagrant"):
            problems.append(
                "vagrant is not installed: apt-get install vagrant vagrant-libvirt (or scripts/setup-vagrant.sh)"
            )
        else:
            if self.vm_provider == "libvirt":
                plugins = self.vagrant("plugin", "list", check=False).stdout
                if "vagrant-libvirt" not in plugins:
                    problems.append("the vagrant-libvirt plugin is missing: apt-get install vagrant-libvirt")
                virsh = (
                    subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True, text=True)
                    if shutil.which("virsh")
                    else None
                )
                if virsh is None or virsh.returncode != 0:
                    problems.append(
                        "libvirt does not answer (virsh -c qemu:///system version): install "
                        "libvirt-daemon-system qemu-system-x86 and start libvirtd "
                        "(scripts/setup-vagrant.sh does both)"
                    )
            cfg = load_config(self.folder, self.env)
            boxes = self.vagrant("box", "list", check=False).stdout
            if cfg.box not in {line.split()[0] for line in boxes.splitlines() if line.strip()}:
                problems.append(
                    f"box {cfg.box} is not installed and none can be downloaded here: "
                    "swarmlab vagrant box build (or set box: in vagrant/lab.yaml)"
                )
        held = self._lab()
        if problems:
            raise PreflightError("the Vagrant provider cannot start:\n  " + "\n  ".join(problems))
        self._held = held

    def probe_kernel(self, lab: str = "") -> Capabilities:
        # the VMs do not exist yet: the decision is made again on their probes after `vagrant up`
        return Capabilities("vagrant VMs (not yet probed)", True, True)

    def allocate_pool(self, lab: str, wanted: str = "auto", source: str = "", avoid: tuple = ()) -> AddressPlan:
        cfg = load_config(self.folder, self.env)
        vms = [ipaddress.IPv4Network(cfg.subnet + ".0/24"), ipaddress.IPv4Network("192.168.121.0/24")]
        pool = choose_pool(vms, DEFAULT_PARENT) if wanted == "auto" else ipaddress.IPv4Network(wanted)
        if pool is None:
            raise PreflightError(f"no /16 of {DEFAULT_PARENT} is clear of the VMs' networks", hint="set network.pool")
        return AddressPlan(pool)

    def provision(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> List[Host]:
        held = self._lab()
        if held and held != lab:
            raise SwarmlabError(
                f"the VMs of {self.folder} hold lab {held}", hint=f"swarmlab down --provider vagrant {held}"
            )
        cfg = load_config(self.folder, self.env)
        box_dir = self._box_dir(cfg.box)
        kernel = box_dir / "vmlinuz" if box_dir else None
        if box_dir and kernel and kernel.exists() and self.vm_provider == "libvirt":
            self._kernel_for_libvirt(box_dir)
        self.env["SWARMLAB_VAGRANT_DRIVER"] = self._driver(kernel, lab, say, cfg.count)
        (self.state_dir / "lab").write_text(lab)
        started = time.monotonic()
        say(
            f"vagrant up --provider {self.vm_provider}: {cfg.count} VMs ({cfg.memory} MiB, {cfg.cpus} CPU, "
            f"box {cfg.box}, driver {self.env['SWARMLAB_VAGRANT_DRIVER']})"
        )
        self.vagrant("up", "--provider", self.vm_provider, say=say)
        say(f"VMs up in {time.monotonic() - started:.0f}s")
        self.write_inventory(cfg, say)
        self._ssh = None
        ssh = self.ssh()
        ssh.preflight()
        return ssh.provision(scenario, lab, plan, say)

    def _driver(self, kernel: Optional[Path], lab: str, say, count: int) -> str:
        """SWARMLAB_VAGRANT_DRIVER if set; else the driver these VMs were made with (an `up`
        on existing VMs needs no new KVM boot test, and keeps them as they are); else the
        boot test's answer, recorded beside the lab."""
        recorded = self.state_dir / "driver"
        if self.env.get("SWARMLAB_VAGRANT_DRIVER"):
            driver = self.env["SWARMLAB_VAGRANT_DRIVER"]
        elif recorded.exists() and self._lab() == lab:
            driver = recorded.read_text().strip()
            say(f"driver {driver}, as when these VMs were made (no KVM boot test)")
        else:
            driver = choose_driver(kernel, say, count)
        self.state_dir.mkdir(exist_ok=True)
        recorded.write_text(driver)
        return driver

    def _kernel_for_libvirt(self, box_dir: Path) -> None:
        """A box of `swarmlab vagrant box build` boots the kernel it carries; QEMU runs as
        libvirt-qemu and may not read ~/.vagrant.d, so the kernel and initrd are copied
        where libvirt keeps boot files, and the Vagrantfile points the VMs at the copies."""
        dest = LIBVIRT_BOOT / box_dir.parent.parent.name.replace("-VAGRANTSLASH-", "-") / box_dir.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        for f in ("vmlinuz", "initrd.img"):
            src, dst = box_dir / f, dest / f
            if src.exists() and (not dst.exists() or dst.stat().st_size != src.stat().st_size):
                shutil.copyfile(src, dst)
                dst.chmod(0o644)
        self.env.setdefault("SWARMLAB_VAGRANT_KERNEL", str(dest / "vmlinuz"))
        if (dest / "initrd.img").exists():
            self.env.setdefault("SWARMLAB_VAGRANT_INITRD", str(dest / "initrd.img"))
        self.env.setdefault("SWARMLAB_VAGRANT_CONSOLES", str(self.console_dir))
        Path(self.env["SWARMLAB_VAGRANT_CONSOLES"]).mkdir(parents=True, exist_ok=True)

    @property
    def console_dir(self) -> Path:
        """Where libvirt logs the serial consoles of this folder's VMs."""
        return CONSOLES / f"swarmlab-{hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:12]}"

    def write_inventory(self, cfg: VagrantConfig, say=lambda s: None) -> Path:
        """Inventory from `vagrant ssh-config`, each VM's host key pinned for every later
        connection: the key the VM said on its serial console (a box of swarmlab's), else
        the one read over Vagrant's own first session, which checks no key (said so)."""
        ssh = parse_ssh_config(self.vagrant("ssh-config").stdout)
        keys: Dict[str, str] = {}
        for name in cfg.names():
            keys[name] = self._console_key(name) or ""
            if not keys[name]:
                out = self.vagrant("ssh", name, "-c", "cat /etc/ssh/ssh_host_ed25519_key.pub", timeout=120).stdout
                keys[name] = " ".join(out.split()[:2])
                say(
                    f"{name}: host key learned over Vagrant's first SSH session, which checks none (trust on "
                    "first use): the box says no key on a serial console (swarmlab vagrant box build makes one that "
                    "does)"
                )
        doc = inventory_doc(cfg, ssh, keys)
        self.inventory_path.write_text(
            "# made by swarmlab from `vagrant ssh-config`; host keys pinned by swarmlab\n"
            + yaml.safe_dump(doc, sort_keys=False)
        )
        return self.inventory_path

    def _console_key(self, name: str) -> Optional[str]:
        """The host key the VM said on its serial console at its latest boot, from the log
        libvirt keeps on this machine (None when this box or provider says none)."""
        folder = self.env.get("SWARMLAB_VAGRANT_CONSOLES")
        if not folder:
            return None
        try:
            text = safefs.read_regular(Path(folder) / f"{name}.log", 16 * 1024 * 1024)
        except (OSError, ValueError):
            return None
        return said_key(text.decode("utf-8", "replace"))

    def _box_dir(self, box: str) -> Optional[Path]:
        home = Path(self.env.get("VAGRANT_HOME", Path.home() / ".vagrant.d"))
        found = sorted((home / "boxes" / box.replace("/", "-VAGRANTSLASH-")).glob("*/libvirt"))
        return found[-1] if found else None

    # everything else is the SSH provider's, on the generated inventory
    def exists(self, lab: str) -> bool:
        return self._lab() == lab

    def hosts(self, lab: str) -> List[Host]:
        return self.ssh().hosts(lab) if self.ssh() and self._lab() == lab else []

    def plan(self, lab: str) -> Optional[AddressPlan]:
        return self.ssh().plan(lab) if self.ssh() else None

    def list_labs(self) -> List[LabInfo]:
        lab = self._lab()
        if not lab:
            return []
        cfg = load_config(self.folder, self.env)
        return [LabInfo(lab, self.name, "", cfg.count, cfg.count)]

    def record(self, made: Made) -> None:
        self.ssh().record(made)

    def remove_nodes(self, lab: str, nodes: List[str]) -> None:
        """The VM count comes from lab.yaml: change it there."""

    def destroy(self, lab: str, say=lambda s: None) -> Dict[str, int]:
        """`vagrant destroy -f`, then what libvirt may leave behind: the private network and
        the VMs' disk volumes."""
        held = self._lab()
        if held and held != lab:
            raise SwarmlabError(f"the VMs of {self.folder} hold lab {held}, not {lab}")
        self.vagrant("destroy", "-f", timeout=1800, say=say)
        left = 0
        if self.vm_provider == "libvirt" and shutil.which("virsh"):
            cfg = load_config(self.folder, self.env)
            net = f"swarmlab-{cfg.subnet.replace('.', '-')}"
            virsh = ["virsh", "-c", "qemu:///system"]
            for cmd in ([*virsh, "net-destroy", net], [*virsh, "net-undefine", net]):
                left += subprocess.run(cmd, capture_output=True).returncode == 0
            vols = subprocess.run([*virsh, "vol-list", "default"], capture_output=True, text=True).stdout
            for line in vols.splitlines():
                name = line.split()[0] if line.split() else ""
                if name.startswith("swarmlab_swarm-"):
                    left += (
                        subprocess.run(
                            [*virsh, "vol-delete", "--pool", "default", name], capture_output=True
                        ).returncode
                        == 0
                    )
        shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(self.console_dir, ignore_errors=True)
        return {"vms": load_config(self.folder, self.env).count, "libvirt leftovers": left}

    def collect_logs(self, lab: str, dest: Path) -> List[Path]:
        return self.ssh().collect_logs(lab, dest) if self.ssh() else []


def quote(args: List[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)
