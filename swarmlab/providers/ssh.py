"""Hosts that already exist, listed in an inventory and reached over SSH (issue #5).

The provider never makes or destroys a host. It checks them (preflight, every host's
problems at once), hands them to the same swarm/network/stack/verify code as dind nodes,
and on `down` removes only what the lab made: its stack, networks, secrets, volumes, the
images it loaded and the node labels it added — and leaves the swarm only if the lab
created it.

State lives on the swarm, as kind keeps it on the engine: a swarm config
`swarmlab-<lab>-state` (labelled with the lab) records what the lab made there."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Dict, List, Optional

from .. import labels as L
from ..addressing import DEFAULT_PARENT, AddressPlan, choose_pool, parse_pool
from ..capabilities import Capabilities
from ..config.inventory import Inventory, InventoryHost, apply_inventory, load_inventory
from ..config.inventory_check import resolve
from ..config.model import Scenario
from ..errors import ConfigError, PreflightError, Problem, SwarmlabError
from ..shell import label_filter, sh
from ..transport.group import parallel
from ..transport.ssh import SSHTransport
from ..waiting import until
from .base import Host, Provider
from .ssh_preflight import Facts, SSHPreflight
from .ssh_state import SSHState, _loaded_by, state_config


class SSHProvider(SSHPreflight, SSHState, Provider):
    name = "ssh"
    features = frozenset({"compare"})
    host_access_grants = "the host's engine and files, which is root on that host"

    def __init__(
        self, inventory: Inventory, client=None, trust_on_first_use: bool = False, connect_timeout: float = 10
    ):
        self.inventory = inventory
        self._client = client
        self.tofu = trust_on_first_use
        base = inventory.path.parent
        known = str(resolve(base, inventory.known_hosts)) if inventory.known_hosts else None
        # trust on first use records into the inventory's known_hosts (made beside it if it has none)
        record = (known or str(inventory.path.with_suffix(".known_hosts"))) if trust_on_first_use else None
        known = known or record  # what was recorded before is pinned now
        self.transports: Dict[str, SSHTransport] = {
            h.name: SSHTransport(
                h.name,
                h.address,
                port=h.port,
                user=h.user,
                key_file=str(resolve(base, h.key_file)) if h.key_file else None,
                host_key=h.host_key,
                known_hosts=known,
                record_to=record,
                connect_timeout=connect_timeout,
            )
            for h in inventory.hosts
        }
        self.facts: Dict[str, Facts] = {}
        self.esp_blocked: Dict[str, List[str]] = {}  # host -> the hosts whose ESP does not reach it
        self._swarm_before: Optional[bool] = None  # was any host in a swarm before this `up`?
        self._lock = threading.Lock()

    @classmethod
    def from_options(  # type: ignore[override]  # each provider takes its own options
        cls,
        inventory=None,
        trust_on_first_use: bool = False,
        client=None,
    ) -> "SSHProvider":
        """From an inventory file, checked first (every problem at once)."""

        return cls(
            load_inventory(inventory, trust_on_first_use=trust_on_first_use),
            client=client,
            trust_on_first_use=trust_on_first_use,
        )

    @property
    def registry(self):
        """The inventory's registry, if it names one: images go through it instead of SSH."""
        return self.inventory.registry

    def nodes_for(self, scenario: Scenario) -> Scenario:
        return apply_inventory(scenario, self.inventory)

    def remove_command(self, lab: str) -> str:
        return f"swarmlab down --inventory {self.inventory.path} {lab}"

    def close(self) -> None:
        for t in self.transports.values():
            t.close()

    def probe_kernel(self, lab: str = "") -> Capabilities:
        """What every host offers (preflight probed each): IPVS/ESP only if all have it."""
        caps = [f.caps for f in self.facts.values() if f.caps]
        reasons = tuple((k, f"{c.host}: {v}") for c in caps for k, v in c.reasons)
        if self.esp_blocked:
            reasons += (
                (
                    "esp",
                    "IP protocol 50 does not pass between the hosts: "
                    + "; ".join(f"{', '.join(v)} to {k}" for k, v in sorted(self.esp_blocked.items())),
                ),
            )
        who = "inventory hosts" + (" (IP protocol 50 blocked between them)" if self.esp_blocked else "")
        return Capabilities(
            who,
            bool(caps) and all(c.ipvs for c in caps),
            bool(caps) and all(c.esp for c in caps) and not self.esp_blocked,
            ", ".join(sorted({c.kernel for c in caps})),
            reasons,
        )

    # -- addresses -------------------------------------------------------
    def plan(self, lab: str) -> Optional[AddressPlan]:
        state = self._state(lab)
        return AddressPlan(ipaddress.IPv4Network(state["pool"])) if state.get("pool") else None

    def allocate_pool(self, lab: str, wanted: str = "auto", source: str = "", avoid: tuple = ()) -> AddressPlan:
        """The /16 whose upper half the swarm's overlay networks come from, clear of every
        network the hosts route to (used only when this lab creates the swarm)."""
        known = self.plan(lab)
        if known:
            return known
        used = []
        for f in self.facts.values():
            for r in f.routes:
                try:
                    used.append(ipaddress.IPv4Network(r, strict=False))
                except ValueError:
                    pass
        if wanted != "auto":
            pool = parse_pool(wanted)
            clash = sorted({str(u) for u in used if pool.overlaps(u)})
            if clash:
                raise ConfigError(
                    [
                        Problem(
                            source or "--pool",
                            "network.pool",
                            f"{pool} overlaps {', '.join(clash)}, routed on the inventory's hosts; "
                            "choose another /16 or write 'auto'",
                        )
                    ]
                )
            return AddressPlan(pool)
        chosen = choose_pool(used, DEFAULT_PARENT)
        if chosen is None:
            raise PreflightError(f"every /16 of {DEFAULT_PARENT} is routed on the hosts", hint="set network.pool")
        return AddressPlan(chosen)

    # -- hosts -----------------------------------------------------------
    def _host(self, h: InventoryHost, state: str = "running", hostname: str = "") -> Host:
        return Host(
            h.name,
            h.address,
            h.role,
            self.transports[h.name],
            state,
            {L.NODE: h.name, L.SWARM_ROLE: h.role, **dict(h.labels)},
            hostname,
            h.advertise_addr or "",
            h.data_path_addr or "",
        )

    def provision(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> List[Host]:
        """The hosts exist already: nothing is made, they are only handed over."""
        if not self.facts:
            self.preflight()
        for w in self.warnings():
            say(f"warning: {w}")
        say(
            f"{len(self.inventory.hosts)} hosts from {self.inventory.path}: "
            + ", ".join(
                f"{h.name} ({h.role}, {self.transports[h.name].where}, Docker {self.facts[h.name].docker})"
                for h in self.inventory.hosts
            )
        )
        return [self._host(h, hostname=self.facts[h.name].hostname) for h in self._ordered()]

    def _ordered(self) -> List[InventoryHost]:
        return sorted(self.inventory.hosts, key=lambda h: h.role != "manager")

    def hosts(self, lab: str) -> List[Host]:
        """Every inventory host, "running" when its engine answers over SSH."""

        def look(h):
            r = self.transports[h.name].run("docker info --format '{{.Name}}'", warn=True, timeout=30)
            return r.stdout.strip() if r.ok else None

        got = parallel(self._ordered(), look)
        out = []
        for i, h in enumerate(self._ordered()):
            name = got[i]
            if isinstance(name, Exception) or not name:
                out.append(self._host(h, "unreachable"))
            else:
                out.append(self._host(h, "running", name))
        return out

    def _leader(self) -> Optional[SSHTransport]:
        """A reachable manager of an active swarm, or None."""
        for h in self.inventory.managers:
            t = self.transports[h.name]
            try:
                r = t.run("docker info --format '{{.Swarm.ControlAvailable}}'", warn=True, timeout=30)
            except PreflightError:
                continue
            if r.ok and r.stdout.strip() == "true":
                return t
        return None

    # -- teardown --------------------------------------------------------
    def remove_nodes(self, lab: str, nodes: List[str]) -> None:
        """Never: an inventory's hosts are not the lab's to remove."""

    def destroy(self, lab: str, say=lambda s: None) -> Dict[str, int]:
        """Remove what the lab made; leave the swarm only if the lab created it and no
        other lab uses it. The hosts themselves stay as they were before the lab."""
        leader = self._leader()
        hosts = list(self.inventory.hosts)
        counts = {"services": 0, "networks": 0, "secrets": 0, "volumes": 0, "images": 0, "hosts left the swarm": 0}
        state = self._state(lab, leader) if leader else {}
        created = state.get("created_swarm", self._swarm_before is False)
        failed: List[str] = []
        if leader is not None:
            svcs = leader.run(["docker", "service", "ls", "-q", label_filter(L.LAB, lab)], warn=True).stdout.split()
            counts["services"] = len(svcs)
            if svcs:
                leader.run(["docker", "service", "rm", svcs], warn=True, timeout=60)
            for stack in state.get("stacks") or [state.get("stack", "")]:
                self._wait_tasks_gone(lab, stack, say)
            counts["networks"] = self._remove_until_gone(leader, "network", lab, failed)
            counts["secrets"] = self._remove_until_gone(leader, "secret", lab, failed)
            others = [c for c in self._records(leader) if c.lab != lab]
            if not created:
                for node, keys in (state.get("node_labels") or {}).items():
                    leader.run(
                        ["docker", "node", "update", [["--label-rm", k] for k in keys], node], warn=True, timeout=30
                    )
        else:
            others = []

        def clean(h):
            t = self.transports[h.name]
            sel = label_filter(L.LAB, lab)
            t.run(sh("docker", "ps", "-aq", sel) + " | xargs -r docker rm -f", warn=True, timeout=60)
            vols = t.run(["docker", "volume", "ls", "-q", sel], warn=True).stdout.split()
            if vols:
                t.run(["docker", "volume", "rm", "-f", vols], warn=True, timeout=60)
            imgs = (state.get("loaded") or {}).get(h.name) or []
            claimed = {r for c in others for r in _loaded_by(c).get(h.name, [])}
            imgs = [i for i in imgs if i not in claimed]
            gone = 0
            if imgs:
                before = set(t.run("docker images -q", warn=True).stdout.split())
                t.run(["docker", "image", "rm", imgs], warn=True, timeout=120)
                gone = len(before - set(t.run("docker images -q", warn=True).stdout.split()))
            return len(vols), gone

        res = parallel(hosts, clean)
        for i, r in res.items():
            if isinstance(r, Exception):
                failed.append(f"{hosts[i].name}: {r}")
            else:
                counts["volumes"] += r[0]
                counts["images"] += r[1]
        if leader is not None:  # the state record, and any other config of the lab (a lesson's record)
            mine = leader.run(["docker", "config", "ls", "-q", label_filter(L.LAB, lab)], warn=True).stdout.split()
            leader.run(["docker", "config", "rm", sorted(set(mine) | {state_config(lab)})], warn=True)
        if created and not others:
            # workers first: a manager that leaves first may take the quorum with it
            for group in ([h for h in hosts if h.role == "worker"], [h for h in hosts if h.role == "manager"]):
                left = parallel(
                    group, lambda h: self.transports[h.name].run("docker swarm leave --force", warn=True, timeout=60)
                )
                counts["hosts left the swarm"] += sum(1 for r in left.values() if not isinstance(r, Exception) and r.ok)
        elif created:
            say(f"the swarm stays: lab(s) {', '.join(c.lab for c in others)} still use it")
        if failed:
            raise SwarmlabError(
                f"lab {lab}: some resources could not be removed:\n  " + "\n  ".join(failed),
                hint=f"run `swarmlab down --inventory {self.inventory.path} {lab}` again",
            )
        return counts

    def _wait_tasks_gone(self, lab: str, stack: str, say, timeout: float = 90) -> None:
        """Removing a service stops its tasks a little later on every host: wait for them."""
        sel = label_filter(L.STACK, stack) if stack else label_filter(L.LAB, lab)

        def gone():
            left = parallel(
                list(self.inventory.hosts),
                lambda h: self.transports[h.name].run(["docker", "ps", "-q", sel], warn=True).stdout.split(),
            )
            return not any(v for v in left.values() if not isinstance(v, Exception)), ""

        if not until(gone, timeout)[0]:
            say(f"some tasks of {stack or lab} were still stopping after {timeout:.0f}s")

    @staticmethod
    def _remove_until_gone(leader: SSHTransport, kind: str, lab: str, failed: List[str], timeout: float = 30) -> int:
        """docker KIND rm of the lab's KINDs (networks, secrets) until none is left."""
        ls = ["docker", kind, "ls", "-q", label_filter(L.LAB, lab)]
        ids = leader.run(ls, warn=True).stdout.split()
        left = list(ids)

        def removed():
            nonlocal left
            if left:
                r = leader.run(["docker", kind, "rm", left], warn=True, timeout=60)
                left = leader.run(ls, warn=True).stdout.split()
                return not left, r.stderr.strip()[-200:]
            return True, ""

        done, why, _ = until(removed, timeout)
        if not done:
            failed.append(f"docker {kind} rm {' '.join(left)}: {why}")
        return len(ids) - len(left)

    def collect_logs(self, lab: str, dest: Path) -> List[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        out = []
        for h in self.inventory.hosts:
            r = self.transports[h.name].run(
                "for c in $(" + sh("docker", "ps", "-aq", label_filter(L.LAB, lab)) + "); do "
                'echo "== $c"; docker logs --tail 200 "$c" 2>&1; done',
                warn=True,
                timeout=60,
            )
            p = dest / f"{h.name}.log"
            p.write_text(r.stdout + r.stderr)
            out.append(p)
        return out
