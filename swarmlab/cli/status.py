import click

from .. import output
from .common import handle_errors, inventory_options, json_option, lab_command, provider_for, resolve_lab


@click.command()
@lab_command("status")
def status(name, inventory, provider, tofu, as_json):
    """Nodes, networks (encryption, VXLAN id), services and where they run, URLs."""
    from .. import lab as labapi  # here: the engine client is slow to import

    report = labapi.status(resolve_lab(name), provider_for(inventory, tofu, provider))
    from .. import history

    doc = history.keep_status(report)
    if as_json:
        output.write(doc)
    else:
        output.render_status(report)


@click.command(name="ls")
@inventory_options
@json_option
@handle_errors("ls")
def ls(inventory, provider, tofu, as_json):
    """The labs on this engine (or on an inventory's swarm)."""
    from .. import lab as labapi  # here: the engine client is slow to import

    labs = labapi.list_labs(provider_for(inventory, tofu, provider))
    if as_json:
        output.write(output.envelope("ls", True, labs))
    else:
        output.render_labs(labs)
