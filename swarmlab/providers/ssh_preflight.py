"""Preflight of SSH inventory hosts (issue #5): every host checked at once before anything
changes — SSH and sudo, Docker and its version, the tools verify runs, addresses, swarm
membership, clock skew, IPVS/ESP, Swarm's ports and IP protocol 50 between every pair."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..capabilities import PROBE_CMD, Capabilities, parse_probe
from ..config.inventory import Inventory, InventoryHost
from ..errors import PreflightError
from ..transport.group import parallel
from ..transport.ssh import SSHTransport

# what verify runs on a host, and the Debian package that has it
TOOLS = {
    "ip": "iproute2",
    "nsenter": "util-linux",
    "tcpdump": "tcpdump",
    "ping": "iputils-ping",
    "dig": "dnsutils",
    "nc": "netcat-openbsd",
    "python3": "python3",
}
SKEW_WARN, SKEW_MAX = 1.0, 30.0  # seconds; Swarm's TLS certificates do not survive much more
MIN_DOCKER = (19, 3)  # --data-path-addr

FACTS_CMD = r"""
for t in docker TOOLS; do command -v $t >/dev/null 2>&1 || echo "missing=$t"; done
if command -v docker >/dev/null 2>&1; then
  if v=$(docker version --format '{{.Server.Version}}' 2>&1); then echo "docker=$v"
  else echo "docker_error=$(echo "$v" | tr '\n' ' ')"; fi
  docker info --format 'hostname={{.Name}}
swarm={{.Swarm.LocalNodeState}}
cluster={{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}
control={{.Swarm.ControlAvailable}}' 2>/dev/null
fi
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
   ! command -v apparmor_parser >/dev/null 2>&1; then
  echo "apparmor=no-parser"
fi
ip -o -4 addr show 2>/dev/null | awk '{print "addr=" $4}'
ip -4 route show 2>/dev/null | awk '$1 != "default" {print "route=" $1}'
""".replace("TOOLS", " ".join(TOOLS))

# The port check: every host listens on Swarm's ports for a few seconds (those not
# already taken by a running engine), every host connects or sends to every other.
LISTEN = r"""
import json, select, socket, sys, time
socks, busy, seen = {}, [], []
MARK = b"swarmlab-preflight "
for spec in sys.argv[2].split(","):
    port, proto = spec.split("/")
    if proto == "esp":   # IP protocol 50: a raw socket sees every ESP packet, ours carry MARK
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
        except OSError:
            busy.append(spec)
            continue
        socks[s] = spec
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    if proto == "tcp":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", int(port)))
    except OSError:
        busy.append(spec)
        continue
    if proto == "tcp":
        s.listen(16)
    socks[s] = spec
end = time.time() + float(sys.argv[1])
print("listening", flush=True)
while time.time() < end and socks:
    for s in select.select(list(socks), [], [], 0.1)[0]:
        if s.type == socket.SOCK_STREAM:
            c, _ = s.accept()
            c.settimeout(1)
            try:
                data = c.recv(64)
            except OSError:
                data = b""
            c.close()
        elif s.type == socket.SOCK_RAW:
            data, _ = s.recvfrom(2048)
            body = data[(data[0] & 15) * 4 + 8:]   # past the IP header, the SPI and the sequence number
            if not body.startswith(MARK):
                continue   # someone's real ESP
            data = body[len(MARK):]
        else:
            data, _ = s.recvfrom(64)
        seen.append([socks[s], data.decode(errors="replace")])
print(json.dumps({"busy": busy, "seen": seen}))
"""

SEND = r"""
import json, socket, struct, sys, time
me, out = sys.argv[1], {}
targets = json.loads(sys.argv[2])
for _ in range(3):
    for peer, addr, spec in targets:
        port, proto = spec.split("/")
        key = peer + " " + spec
        if proto == "esp":   # an ESP header with an SPI no host holds: the kernel drops it after a raw socket saw it
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
                s.sendto(struct.pack("!II", 0x5a4d0001, 1) + b"swarmlab-preflight " + me.encode(), (addr, 0))
                s.close()
                out[key] = "sent"
            except OSError as exc:
                out[key] = exc.strerror or str(exc)
        elif proto == "tcp":
            if out.get(key) == "ok":
                continue
            try:
                c = socket.create_connection((addr, int(port)), timeout=2)
                c.sendall(me.encode())
                c.close()
                out[key] = "ok"
            except OSError as exc:
                out[key] = exc.strerror or str(exc)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(me.encode(), (addr, int(port)))
            s.close()
            out[key] = "sent"
    time.sleep(0.2)
print(json.dumps(out))
"""


@dataclass
class Facts:
    """What preflight learnt about one host."""

    host: str
    problems: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    docker: str = ""
    hostname: str = ""
    swarm: str = ""
    cluster: str = ""
    control: bool = False
    addrs: List[str] = field(default_factory=list)
    routes: List[str] = field(default_factory=list)
    skew: Optional[float] = None
    caps: Optional[Capabilities] = None

    @property
    def reachable(self) -> bool:
        return bool(self.docker)


def _kv(text: str) -> List[Tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in text.splitlines() if "=" in line]  # type: ignore[misc]


def _facts_or_problem(name: str, got: object) -> Facts:
    """A host's facts, or the one problem that kept them from being read."""
    if isinstance(got, Facts):
        return got
    return Facts(name, problems=[getattr(got, "message", str(got))])


class SSHPreflight:
    """The preflight half of the SSH provider (needs self.inventory, self.transports)."""

    facts: Dict[str, Facts]
    esp_blocked: Dict[str, List[str]]
    inventory: Inventory
    transports: Dict[str, SSHTransport]
    _swarm_before: Optional[bool]

    def preflight(self) -> None:
        """SSH, sudo, Docker and its version, the tools verify needs, addresses, swarm
        membership, clock skew, IPVS/ESP, and Swarm's ports between every pair of hosts.
        Every host's problems are reported together."""
        results = parallel(list(self.inventory.hosts), self._facts_of)
        self.facts = {h.name: _facts_or_problem(h.name, results[i]) for i, h in enumerate(self.inventory.hosts)}
        problems = {name: list(f.problems) for name, f in self.facts.items()}
        clusters = {f.cluster for f in self.facts.values() if f.swarm == "active" and f.cluster}
        if len(clusters) > 1:
            for name, f in self.facts.items():
                if f.swarm == "active":
                    problems[name].append(
                        f"is in swarm {f.cluster[:12]}, but the other hosts are in another "
                        "one; make them leave (docker swarm leave) or use one swarm's hosts"
                    )
        names: Dict[str, str] = {}
        for name, f in self.facts.items():
            if f.hostname and f.hostname in names:
                problems[name].append(
                    f"its hostname {f.hostname!r} is also {names[f.hostname]}'s; the swarm "
                    "names nodes by hostname: give each host its own"
                )
            names.setdefault(f.hostname, name)
        lead = self.inventory.managers[0].name if self.inventory.managers else None
        if lead and clusters and self.facts[lead].swarm == "active" and not self.facts[lead].control:
            problems[lead].append(
                "is a worker of its swarm, but the inventory makes it the first manager; "
                "promote it (docker node promote) or list a manager of that swarm first"
            )
        if all(f.reachable and "python3" not in " ".join(f.problems) for f in self.facts.values()):
            for name, msg in self._port_problems().items():
                problems[name].append(msg)
            for name, msg in self._registry_problems().items():
                problems[name].append(msg)
        bad = {n: p for n, p in problems.items() if p}
        if bad:
            lines = [f"{n} ({self.transports[n].where}): {p}" for n, ps in bad.items() for p in ps]
            raise PreflightError(
                f"{len(bad)} of {len(self.facts)} hosts of {self.inventory.path} are not ready; "
                "nothing was changed on any host:\n  " + "\n  ".join(lines)
            )
        self._swarm_before = any(f.swarm == "active" for f in self.facts.values())

    def host_report(self) -> List[dict]:
        """What preflight learnt, one row per host (for `inventory check --connect`)."""
        return [
            {
                "host": n,
                "where": self.transports[n].where,
                "docker": f.docker,
                "hostname": f.hostname,
                "swarm": f.swarm,
                "ipvs": bool(f.caps and f.caps.ipvs),
                "esp": bool(f.caps and f.caps.esp),
                "kernel": f.caps.kernel if f.caps else "",
                "skew": f.skew,
                "warnings": f.warnings,
            }
            for n, f in self.facts.items()
        ]

    def warnings(self) -> List[str]:
        return [f"{n}: {w}" for n, f in self.facts.items() for w in f.warnings]

    def _facts_of(self, h: InventoryHost) -> Facts:
        f = Facts(h.name)
        t = self.transports[h.name]
        try:
            t0 = time.time()
            r = t.run("date +%s.%N", warn=True, timeout=20)
            t1 = time.time()
        except PreflightError as exc:
            f.problems.append(exc.message.split(": ", 1)[-1] + (f" ({exc.hint})" if exc.hint else ""))
            return f
        if not r.ok:
            why = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["?"]
            if t.become:
                f.problems.append(
                    f"user {h.user} is not root and `sudo -n` failed ({why[0]}); verify enters "
                    f"network namespaces and captures packets as root: log in as root or give "
                    f"{h.user} passwordless sudo"
                )
            else:
                f.problems.append(f"a plain command failed: {why[0]}")
            return f
        if t.recorded:
            f.warnings.append(f"host key trusted on first use and recorded: {t.recorded[:40]}...")
        try:
            f.skew = float(r.stdout.strip()) - (t0 + t1) / 2
        except ValueError:
            pass
        # the remote clock was read somewhere within the round trip: only what exceeds
        # half of it is surely skew (a slow VM takes a second to start `date`)
        sure = max(0.0, abs(f.skew) - (t1 - t0) / 2) if f.skew is not None else 0.0
        if f.skew is not None and sure > SKEW_MAX:
            f.problems.append(
                f"its clock is {f.skew:+.1f} s off the controller's; Swarm's certificates need "
                "synchronised clocks: run NTP (chrony, systemd-timesyncd)"
            )
        elif f.skew is not None and sure > SKEW_WARN:
            f.warnings.append(f"clock {f.skew:+.1f} s off the controller's (±{(t1 - t0) / 2:.1f} s)")
        kv = _kv(t.run(FACTS_CMD, warn=True, timeout=60).stdout)
        missing = [v for k, v in kv if k == "missing"]
        values = dict(kv)
        f.addrs = [v.split("/")[0] for k, v in kv if k == "addr"]
        f.routes = [v for k, v in kv if k == "route"]
        _engine_facts(f, h, values, missing)
        if values.get("apparmor") == "no-parser":
            f.problems.append(
                "the kernel enables AppArmor but apparmor_parser is missing, so Docker can start no "
                'container ("docker-default profile could not be loaded"): apt-get install apparmor'
            )
        tools = [m for m in missing if m != "docker"]
        if tools:
            pkgs = " ".join(sorted({TOOLS[m] for m in tools}))
            f.problems.append(f"missing {', '.join(tools)} (verify runs them on the host): apt-get install {pkgs}")
        for key in ("advertise_addr", "data_path_addr"):
            want = getattr(h, key)
            if want and f.addrs and want not in f.addrs:
                f.problems.append(f"{key} {want} is not an address of the host (it has {', '.join(f.addrs)})")
        if "ip" not in missing:
            probe = t.run(PROBE_CMD, warn=True, timeout=60)
            f.caps = parse_probe(h.name, probe.stdout)
        return f

    def _port_problems(self) -> Dict[str, str]:
        """host -> what of Swarm's ports the other hosts could not reach on it."""
        hosts = list(self.inventory.hosts)
        if len(hosts) < 2:
            return {}
        wanted = {
            h.name: (["2377/tcp"] if h.role == "manager" else []) + ["7946/tcp", "7946/udp", "4789/udp", "50/esp"]
            for h in hosts
        }
        addr = {
            h.name: (h.advertise_addr or h.address, h.data_path_addr or h.advertise_addr or h.address) for h in hosts
        }
        listeners: Dict[str, dict] = {}

        def listen(h):
            r = self.transports[h.name].run(
                ["python3", "-c", LISTEN, 4, ",".join(wanted[h.name])], warn=True, timeout=30
            )
            listeners[h.name] = json.loads(r.stdout.splitlines()[-1]) if r.ok else {"error": r.stderr[-200:]}

        def send(h):
            targets = [
                [p.name, addr[p.name][1] if spec in ("4789/udp", "50/esp") else addr[p.name][0], spec]
                for p in hosts
                if p is not h
                for spec in wanted[p.name]
            ]
            r = self.transports[h.name].run(["python3", "-c", SEND, h.name, json.dumps(targets)], warn=True, timeout=60)
            return json.loads(r.stdout) if r.ok else {}

        threads = [threading.Thread(target=listen, args=(h,)) for h in hosts]
        for th in threads:
            th.start()
        time.sleep(1.5)  # the listeners bind within a few hundred ms of the command
        sent = {hosts[i].name: r if isinstance(r, dict) else {} for i, r in parallel(hosts, send).items()}
        for th in threads:
            th.join()
        out: Dict[str, str] = {}
        for h in hosts:
            got = listeners.get(h.name) or {}
            if "error" in got:
                out[h.name] = f"the port check could not listen: {got['error']}"
                continue
            seen = {(spec, who) for spec, who in got.get("seen", [])}
            busy = set(got.get("busy", []))
            blocked, no_esp = [], []
            for p in hosts:
                if p is h:
                    continue
                for spec in wanted[h.name]:
                    said = sent.get(p.name, {}).get(f"{h.name} {spec}", "not tried")
                    if spec in busy:  # a running engine holds it: a TCP connect is the test
                        ok = spec.endswith("/udp") or spec.endswith("/esp") or said == "ok"
                    else:
                        ok = (spec, p.name) in seen
                    if not ok:
                        why = f" ({said})" if said not in ("ok", "sent") else ""
                        if spec == "50/esp":
                            no_esp.append(f"{p.name}{why}")
                        else:
                            blocked.append(f"{spec} from {p.name}{why}")
            if no_esp:
                # not an error: only encrypted overlays need it, and they then fall back or are refused
                self.esp_blocked[h.name] = no_esp
                self.facts[h.name].warnings.append(
                    f"ESP (IP protocol 50) from {', '.join(no_esp)} does not arrive: encrypted overlays would carry "
                    "nothing between these hosts, so they are treated as having no ESP; allow IP protocol 50 "
                    "between the data-path addresses"
                )
            if blocked:
                out[h.name] = (
                    f"Swarm's ports are not reachable: {', '.join(blocked)}; open 2377/tcp (managers), "
                    "7946/tcp+udp and 4789/udp between the hosts (and IP protocol 50 for encrypted "
                    "networks)"
                )
        return out

    def _registry_problems(self) -> Dict[str, str]:
        """host -> why it cannot reach the inventory's registry (a TCP connect to it)."""
        reg = self.inventory.registry
        if reg is None:
            return {}
        host, _, port = reg.address.partition(":")
        probe = (
            "import socket, sys\ntry:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), "
            "timeout=5).close()\nexcept OSError as e:\n    sys.exit(e.strerror or str(e))"
        )
        cmd = ["python3", "-c", probe, host, port or 443]
        res = parallel(list(self.inventory.hosts), lambda h: self.transports[h.name].run(cmd, warn=True, timeout=30))
        out = {}
        for i, h in enumerate(self.inventory.hosts):
            r = res[i]
            if isinstance(r, Exception) or not r.ok:
                why = str(r) if isinstance(r, Exception) else (r.stderr or r.stdout).strip()[-120:]
                out[h.name] = (
                    f"cannot reach the registry {reg.address} ({why}); the hosts pull the lab's images "
                    "from it: open the way, or name a registry they reach"
                )
        return out


def _engine_facts(f: Facts, h: InventoryHost, values: Dict[str, str], missing: List[str]) -> None:
    """The host's Docker engine: installed, answering this user, recent enough, in a swarm state
    Swarm can be started from."""
    if "docker" in missing:
        f.problems.append("docker is not installed: apt-get install docker.io (or Docker's own packages)")
    elif "docker_error" in values:
        err = values["docker_error"]
        if "permission denied" in err.lower():
            f.problems.append(
                f"user {h.user} may not use the Docker engine ({err.strip()[-120:]}): "
                f"add it to the docker group or log in as root"
            )
        else:
            f.problems.append(
                f"the Docker engine does not answer ({err.strip()[-160:]}): start it "
                "(systemctl start docker, or dockerd)"
            )
    else:
        f.docker = values.get("docker", "")
        f.hostname = values.get("hostname", "")
        f.swarm, f.cluster = values.get("swarm", ""), values.get("cluster", "")
        f.control = values.get("control") == "true"
        try:
            if tuple(int(x) for x in f.docker.split(".")[:2]) < MIN_DOCKER:
                f.problems.append(f"Docker {f.docker} is too old: Swarm's --data-path-addr needs 19.03 or later")
        except ValueError:
            pass
        if f.swarm not in ("inactive", "active"):
            f.problems.append(f"its swarm state is {f.swarm!r}: repair it or leave (docker swarm leave --force)")
