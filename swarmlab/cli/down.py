import click

from .. import output
from .common import kept, lab_command, provider_for, resolve_lab


@click.command()
@lab_command("down")
def down(name, inventory, provider, tofu, as_json):
    """Remove a lab: stack, nodes, networks, volumes, cgroups. A missing lab is fine.
    With --inventory: only what the lab made on those hosts; the hosts stay."""
    from .. import lab as labapi  # here: the engine client is slow to import

    progress = output.Progress(quiet=as_json)
    result = labapi.down(resolve_lab(name), provider_for(inventory, tofu, provider), say=progress.say)
    doc = output.envelope("down", True, result)
    if result["existed"]:
        kept(result["lab"], "down", doc)
    if as_json:
        output.write(doc)
    elif result["existed"]:
        r = result["removed"]
        output.out.print(
            f"lab {result['lab']} removed in {result['seconds']}s: " + ", ".join(f"{v} {k}" for k, v in r.items())
        )
    else:
        output.out.print(f"no lab {result['lab']}: nothing to remove")
