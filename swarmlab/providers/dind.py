"""Docker-in-docker nodes on the controller's own engine (the default provider).

State lives on the engine, never in a local file: a lab is the set of containers,
volumes and networks labelled io.swarmlab.lab=<name> (as kind finds its clusters)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Dict, List, Optional

import docker
from docker.errors import APIError, NotFound
from docker.types import IPAMConfig, IPAMPool

from .. import labels as L
from .. import naming
from ..addressing import DEFAULT_PARENT, AddressPlan, choose_pool, parse_pool
from ..capabilities import PROBE_CMD, Capabilities, parse_probe
from ..config import stack as stackmod
from ..config.model import NodeSpec, Scenario
from ..engine import containers
from ..errors import ConfigError, PoolTaken, PreflightError, Problem, SwarmlabError
from ..transport import DockerExecTransport
from ..transport.group import parallel
from .base import Host, LabInfo, Made, Provider, wait_engines
from . import host_limits
from .seed import Seeds
from .dind_node import NODE_IMAGE, node_env, node_host_config
from .dind_net import host_routes, remove_network


class DindProvider(Provider):
    name = "dind"
    features = frozenset({"kill_node", "compare", "own_swarm"})
    sized_by_flags = True
    host_access_grants = "the node's engine and files; a dind node's engine is root on this machine"

    docker_host: Optional[str] = None  # the engine, when not this machine's (dind_remote.py)

    def __init__(self, client: Optional[docker.DockerClient] = None):
        self._client = client

    # -- preflight -------------------------------------------------------
    def preflight(self) -> None:
        _ = self.client  # the engine answers, or a PreflightError says how to start one
        try:
            self.client.images.get(NODE_IMAGE)
        except NotFound:
            raise PreflightError(f"node image {NODE_IMAGE} is missing", hint="swarmlab images build") from None

    def probe_kernel(self, lab: str = "probe") -> Capabilities:
        """Probe the engine host's kernel in a throwaway node-like container (dind nodes share it)."""
        out = self.throwaway(["sh", "-c", PROBE_CMD], node_host_config(self.client.api, None, "none"), lab)
        return parse_probe("engine host", out)

    def throwaway(self, argv: List[str], host_config: dict, lab: str = "probe") -> str:
        """What argv prints in a container of the node image, removed once it ends."""
        api = self.client.api
        cont = api.create_container(
            NODE_IMAGE, entrypoint=argv, labels=L.stamp(lab, L.ROLE_PROBE), host_config=host_config
        )
        try:
            api.start(cont)
            api.wait(cont, timeout=60)
            return api.logs(cont, stdout=True, stderr=True).decode(errors="replace")
        finally:
            api.remove_container(cont, force=True)

    # -- addresses -------------------------------------------------------
    def _lab_pools(self) -> Dict[str, ipaddress.IPv4Network]:
        out = {}
        for net in self.client.networks.list(filters=L.lab_filter(role=L.ROLE_UNDERLAY)):
            lbl = net.attrs.get("Labels") or {}
            if L.POOL in lbl:
                out[lbl[L.LAB]] = ipaddress.IPv4Network(lbl[L.POOL])
        return out

    def plan(self, lab: str) -> Optional[AddressPlan]:
        pool = self._lab_pools().get(lab)
        return AddressPlan(pool) if pool else None

    def allocate_pool(self, lab: str, wanted: str = "auto", source: str = "", avoid: tuple = ()) -> AddressPlan:
        pools = self._lab_pools()
        if lab in pools:
            return AddressPlan(pools[lab])
        others = list(pools.values()) + list(avoid)
        subnets = []
        for net in self.client.networks.list():
            for cfg in (net.attrs.get("IPAM") or {}).get("Config") or []:
                try:
                    subnets.append(ipaddress.IPv4Network(cfg.get("Subnet", ""), strict=False))
                except ValueError:
                    pass
        if wanted != "auto":
            pool = parse_pool(wanted)
            clash = [str(o) for o in others + subnets if pool.overlaps(o)]
            clash += [f"{o} (a route of this host)" for o in host_routes() if pool.overlaps(o)]
            if clash:
                raise ConfigError(
                    [
                        Problem(
                            source or "--pool",
                            "network.pool",
                            f"{pool} overlaps {', '.join(clash)} already in use on this machine; "
                            "choose another /16 or write 'auto'",
                        )
                    ]
                )
            return AddressPlan(pool)
        chosen = choose_pool(others + subnets, DEFAULT_PARENT, host_routes())
        if chosen is None:
            raise PreflightError(
                f"no free /16 left in {DEFAULT_PARENT} for another lab",
                hint="remove a lab (swarmlab ls, swarmlab down NAME) or set network.pool",
            )
        return AddressPlan(chosen)

    # -- nodes -----------------------------------------------------------
    def exists(self, lab: str) -> bool:
        f = L.lab_filter(lab)
        return bool(
            containers(self.client, f) or self.client.networks.list(filters=f) or self.client.volumes.list(filters=f)
        )

    def provision(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> List[Host]:
        net_name = naming.underlay_network(lab)
        try:
            self.client.networks.get(net_name)
        except NotFound:
            say(f"underlay {net_name} {plan.underlay} (internal: no route out)")
            try:
                self.client.networks.create(
                    net_name,
                    driver="bridge",
                    internal=True,
                    check_duplicate=True,
                    ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(plan.underlay), gateway=plan.gateway)]),
                    labels=L.stamp(
                        lab,
                        L.ROLE_UNDERLAY,
                        pool=str(plan.pool),
                        provider=self.name,
                        scenario=scenario.source or str(scenario.path),
                    ),
                )
            except APIError as exc:
                # the engine's IPAM is the arbiter between two labs made at once
                if "overlaps" in str(exc.explanation):
                    raise PoolTaken(plan.pool) from None
                raise
        self._host_limits(scenario, lab, say)
        seeds = self._seeds(scenario, lab, plan, say)
        results = parallel(
            list(scenario.nodes), lambda n: self._ensure_node(lab, n, plan, net_name, seeds.get(n.name), say)
        )
        errors = [f"{scenario.nodes[i].name}: {r}" for i, r in results.items() if isinstance(r, Exception)]
        if errors:
            raise SwarmlabError("could not start every node:\n  " + "\n  ".join(errors))
        hosts = self.hosts(lab)
        wait_engines([h.transport for h in hosts], "the nodes' Docker engines")
        return hosts

    def _host_limits(self, scenario: Scenario, lab: str, say) -> None:
        """The engine's machine has the memory for the new nodes and neighbour table room."""
        host_limits.check_memory([n for n in scenario.nodes if not self._exists(naming.container_name(lab, n.name))])
        host_limits.ensure_neighbours(self._total_nodes(lab, scenario), len(scenario.networks), say)

    def _total_nodes(self, lab: str, scenario: Scenario) -> int:
        """Every dind node on this engine once this lab is up: they all share one kernel."""
        others = [
            c
            for c in containers(self.client, L.lab_filter(role=L.ROLE_NODE), all=False)
            if (c.labels or {}).get(L.LAB) != lab
        ]
        return len(others) + len(scenario.nodes)

    def _exists(self, container: str) -> bool:
        try:
            self.client.containers.get(container)
            return True
        except NotFound:
            return False

    def _seeds(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> Dict[str, Optional[str]]:
        """node -> the seed volume holding the images its constraints let it run (new nodes only)."""
        have = {c.labels.get(L.NODE) for c in containers(self.client, L.lab_filter(lab, L.ROLE_NODE))}
        wanted = {
            n.name: tuple(stackmod.images_for_node({"services": scenario.services}, n.name, n.role, dict(n.labels)))
            for n in scenario.nodes
            if n.name not in have
        }
        if not any(wanted.values()):
            return {}
        seeds = Seeds(self.client, NODE_IMAGE, node_host_config, say, self.docker_host)
        seeds.prune()
        by_set = seeds.ensure(node_env(lab, "seed", plan), list(wanted.values()))
        return {node: by_set.get(refs) for node, refs in wanted.items()}

    def _ensure_node(self, lab: str, node: NodeSpec, plan: AddressPlan, network: str, seed: Optional[str], say) -> str:
        name = naming.container_name(lab, node.name)
        try:
            cont = self.client.containers.get(name)
        except NotFound:
            cont = None
        if cont is not None:
            if cont.status != "running":
                say(f"{node.name}: starting again")
                cont.start()
            return name
        api = self.client.api
        volume = naming.state_volume(lab, node.name)
        self.client.volumes.create(volume, labels=L.stamp(lab, L.ROLE_NODE_STATE, node=node.name))
        ip = plan.node_ip(node.index)
        cont_id = api.create_container(
            NODE_IMAGE,
            name=name,
            hostname=node.name,
            environment=node_env(lab, node.name, plan),
            labels=L.stamp(lab, L.ROLE_NODE, node=node.name, swarm_role=node.role, provider=self.name),
            host_config=node_host_config(api, volume, network, seed, restart=True),
            networking_config=api.create_networking_config(
                {network: api.create_endpoint_config(ipv4_address=ip, aliases=[node.name])}
            ),
            # dockerd needs time to stop its tasks cleanly before it is killed.
            stop_timeout=30,
        )
        api.start(cont_id)
        say(f"{node.name}: {node.role} at {ip}")
        return name

    def hosts(self, lab: str) -> List[Host]:
        out = []
        conts = containers(self.client, L.lab_filter(lab, L.ROLE_NODE))
        net = naming.underlay_network(lab)
        for c in conts:
            lbl = c.labels
            endpoint = c.attrs["NetworkSettings"]["Networks"].get(net) or {}
            # a stopped container has no IPAddress; its fixed address is in IPAMConfig
            addr = endpoint.get("IPAddress") or (endpoint.get("IPAMConfig") or {}).get("IPv4Address", "")
            out.append(
                Host(
                    lbl.get(L.NODE, c.name),
                    addr,
                    lbl.get(L.SWARM_ROLE, "worker"),
                    DockerExecTransport(c.name, lbl.get(L.NODE), docker_host=self.docker_host),
                    c.status,
                    dict(lbl),
                )
            )
        out.sort(key=lambda h: (h.role != "manager", int(h.name.rsplit("-", 1)[-1]) if h.name[-1:].isdigit() else 0))
        return out

    def list_labs(self) -> List[LabInfo]:
        labs: Dict[str, LabInfo] = {}
        for net in self.client.networks.list(filters=L.lab_filter(role=L.ROLE_UNDERLAY)):
            lbl = net.attrs.get("Labels") or {}
            labs[lbl[L.LAB]] = LabInfo(
                lbl[L.LAB], lbl.get(L.PROVIDER, self.name), lbl.get(L.POOL, ""), 0, 0, lbl.get(L.SCENARIO, "")
            )
        for c in containers(self.client, L.lab_filter(role=L.ROLE_NODE)):
            lab = c.labels[L.LAB]
            info = labs.setdefault(lab, LabInfo(lab, self.name, "", 0, 0))
            info.nodes += 1
            info.running += c.status == "running"
        return sorted(labs.values(), key=lambda i: i.name)

    def record(self, made: Made) -> None:
        """Nothing to write down: the lab's containers, volumes and networks are its state."""

    # -- teardown --------------------------------------------------------
    def destroy(self, lab: str, say=lambda s: None) -> Dict[str, int]:
        f = L.lab_filter(lab)
        conts = containers(self.client, f)
        nodes = [c.labels.get(L.NODE) for c in conts if c.labels.get(L.ROLE) == L.ROLE_NODE]
        # Killing a node kills every process of its PID namespace, tasks included.
        res = parallel(conts, lambda c: c.remove(force=True))
        failed = [
            f"{conts[i].name}: {r}" for i, r in res.items() if isinstance(r, Exception) and not isinstance(r, NotFound)
        ]
        cgroups = self._remove_cgroups(lab, [n for n in nodes if n]) if nodes else 0
        vols = self.client.volumes.list(filters=f)
        for v in vols:
            try:
                v.remove(force=True)
            except NotFound:
                pass
            except APIError as exc:
                failed.append(f"volume {v.name}: {exc.explanation}")
        nets = self.client.networks.list(filters=f)
        failed += [why for why in (remove_network(n) for n in nets) if why]
        if failed:
            raise SwarmlabError(
                f"lab {lab}: some resources could not be removed:\n  " + "\n  ".join(failed),
                hint=f"run `swarmlab down {lab}` again",
            )
        return {"containers": len(conts), "volumes": len(vols), "networks": len(nets), "cgroups": cgroups}

    def remove_nodes(self, lab: str, nodes: List[str]) -> None:
        """Remove some nodes of a lab (containers, state volumes, cgroup trees)."""
        conts = [c for c in containers(self.client, L.lab_filter(lab, L.ROLE_NODE)) if c.labels.get(L.NODE) in nodes]
        parallel(conts, lambda c: c.remove(force=True))
        self._remove_cgroups(lab, nodes)
        for node in nodes:
            try:
                self.client.volumes.get(naming.state_volume(lab, node)).remove(force=True)
            except NotFound:
                pass

    # -- drills (swarmlab drill kill-node) ----------------------------------
    def _node_container(self, lab: str, node: str):
        for c in containers(self.client, L.lab_filter(lab, L.ROLE_NODE)):
            if c.labels.get(L.NODE) == node:
                return c
        raise SwarmlabError(f"lab {lab} has no node {node}")

    def kill_node(self, lab: str, node: str) -> None:
        """SIGKILL the node's container: its engine and every task die at once, as when a
        host loses power. Its state volume keeps the swarm membership for start_node."""
        self._node_container(lab, node).kill()

    def start_node(self, lab: str, node: str, timeout: float = 90) -> None:
        """Start a killed node again and wait for its engine (the entrypoint re-seals it)."""
        c = self._node_container(lab, node)
        c.start()
        wait_engines([DockerExecTransport(c.name, node, docker_host=self.docker_host)], f"{node}'s engine", timeout)

    def _remove_cgroups(self, lab: str, nodes: List[str]) -> int:
        """Remove the inner engines' --cgroup-parent trees from the host (in a helper
        container, so it works whatever host the engine runs on)."""
        parents = " ".join(naming.cgroup_parent(lab, n).lstrip("/") for n in nodes)
        script = (
            "n=0; for p in " + parents + "; do for d in /sys/fs/cgroup/*/$p /sys/fs/cgroup/$p; do "
            '[ -d "$d" ] || continue; i=0; '
            'until find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; [ ! -d "$d" ]; do '
            'i=$((i+1)); [ $i -gt 50 ] && break; sleep 0.1; done; [ -d "$d" ] || n=$((n+1)); done; done; echo $n'
        )
        api = self.client.api
        try:
            self.client.images.get(NODE_IMAGE)
        except NotFound:
            return 0
        cont = api.create_container(
            NODE_IMAGE,
            entrypoint=["sh", "-c", script],
            labels=L.stamp(lab, L.ROLE_PROBE),
            host_config=api.create_host_config(
                binds={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}}, network_mode="none"
            ),
        )
        try:
            api.start(cont)
            api.wait(cont, timeout=60)
            out = api.logs(cont).decode().strip()
        finally:
            api.remove_container(cont, force=True)
        return int(out) if out.isdigit() else 0

    def collect_logs(self, lab: str, dest: Path) -> List[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        out = []
        for c in containers(self.client, L.lab_filter(lab, L.ROLE_NODE)):
            p = dest / f"{c.labels.get(L.NODE, c.name)}.log"
            p.write_bytes(c.logs(stdout=True, stderr=True))
            out.append(p)
        return out
