import click

from .. import output
from ..config.inventory import load_inventory
from .common import handle_errors, json_option


@click.group()
def inventory():
    """SSH inventories: the hosts `up/verify/down --inventory FILE` run on."""


@inventory.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--trust-on-first-use", is_flag=True, help="Accept hosts with no pinned host key (it would be recorded).")
@click.option(
    "--connect",
    is_flag=True,
    help="Also reach every host and run the preflight `up` runs (SSH, sudo, "
    "Docker, tools, addresses, swarm, clock, IPVS/ESP, Swarm's ports and ESP between the hosts); "
    "nothing is changed on any host.",
)
@json_option
@handle_errors("inventory check")
def check(file, trust_on_first_use, connect, as_json):
    """Read an inventory (swarmlab's or Ansible's) and report every problem in it at once."""
    inv = load_inventory(file, trust_on_first_use=trust_on_first_use)
    if connect:
        return _connect(inv, trust_on_first_use, as_json)
    rows = [
        {
            "host": h.name,
            "role": h.role,
            "ssh": f"{h.user}@{h.address}:{h.port}",
            "advertise": h.advertise_addr or h.address,
            "data_path": h.data_path_addr or h.advertise_addr or h.address,
            "labels": dict(h.labels),
            "host_key": (h.host_key.split()[0] + " pinned")
            if h.host_key
            else ("known_hosts " + inv.known_hosts if inv.known_hosts else "trust on first use"),
        }
        for h in inv.hosts
    ]
    registry = {"address": inv.registry.address, "push": inv.registry.push} if inv.registry else None
    if as_json:
        output.write(
            output.envelope(
                "inventory check",
                True,
                {"file": str(inv.path), "shape": inv.shape, "hosts": rows, "registry": registry},
            )
        )
        return
    output.table(
        f"{inv.path} ({inv.shape} inventory): valid",
        ["host", "role", "ssh", "advertise", "data path", "labels", "host key"],
        [
            [
                r["host"],
                r["role"],
                r["ssh"],
                r["advertise"],
                r["data_path"],
                ", ".join(f"{k}={v}" for k, v in r["labels"].items()),
                r["host_key"],
            ]
            for r in rows
        ],
    )
    output.out.print(
        f"images: pushed to {registry['push']}, pulled by the hosts from {registry['address']}"
        if registry
        else "images: streamed to the hosts over SSH (docker save | docker load)"
    )


def _connect(inv, tofu: bool, as_json: bool) -> None:
    from ..providers.ssh import SSHProvider

    provider = SSHProvider(inv, trust_on_first_use=tofu)
    try:
        provider.preflight()  # raises, every host's problems at once (exit 3)
        caps = provider.probe_kernel()
        rows = provider.host_report()
    finally:
        provider.close()
    data = {
        "file": str(inv.path),
        "hosts": rows,
        "ipvs": caps.ipvs,
        "esp": caps.esp,
        "esp_blocked": provider.esp_blocked,
        "reasons": dict(caps.reasons),
    }
    if as_json:
        output.write(output.envelope("inventory check", True, data, warnings=provider.warnings()))
        return
    output.table(
        f"{inv.path}: every host ready",
        ["host", "ssh", "hostname", "Docker", "swarm", "IPVS", "ESP", "kernel", "clock"],
        [
            [
                r["host"],
                r["where"],
                r["hostname"],
                r["docker"],
                r["swarm"],
                "yes" if r["ipvs"] else "no",
                "yes" if r["esp"] else "no",
                r["kernel"],
                "?" if r["skew"] is None else f"{r['skew']:+.2f} s",
            ]
            for r in rows
        ],
    )
    for w in provider.warnings():
        output.out.print(f"warning: {w}")
    output.out.print(
        "encrypted overlays: "
        + (
            "possible (ESP in every kernel, IP protocol 50 passes)"
            if caps.esp
            else "not possible here: " + "; ".join(v for k, v in caps.reasons if k == "esp")
        )
    )
