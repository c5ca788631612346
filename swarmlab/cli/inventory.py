import click
from rich.table import Table

from .. import output
from ..config.inventory import load_inventory
from .common import handle_errors, json_option


@click.group()
def inventory():
    """SSH inventories (hosts reached over SSH; the provider that uses them is being built)."""


@inventory.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--trust-on-first-use", is_flag=True, help="Accept hosts with no pinned host key (it would be recorded).")
@json_option
@handle_errors("inventory check")
def check(file, trust_on_first_use, as_json):
    """Read an inventory (swarmlab's or Ansible's) and report every problem in it at once."""
    inv = load_inventory(file, trust_on_first_use=trust_on_first_use)
    rows = [{"host": h.name, "role": h.role, "ssh": f"{h.user}@{h.address}:{h.port}",
             "advertise": h.advertise_addr or h.address, "data_path": h.data_path_addr or h.advertise_addr or h.address,
             "labels": dict(h.labels),
             "host_key": (h.host_key.split()[0] + " pinned") if h.host_key else
             ("known_hosts " + inv.known_hosts if inv.known_hosts else "trust on first use")} for h in inv.hosts]
    if as_json:
        output.write(output.envelope("inventory check", True, {"file": str(inv.path), "shape": inv.shape, "hosts": rows}))
        return
    t = Table(title=f"{inv.path} ({inv.shape} inventory): valid", title_justify="left")
    for col in ("host", "role", "ssh", "advertise", "data path", "labels", "host key"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["host"], r["role"], r["ssh"], r["advertise"], r["data_path"],
                  ", ".join(f"{k}={v}" for k, v in r["labels"].items()), r["host_key"])
    output.out.print(t)
