import click

from .. import lab as labapi
from .. import output
from ..providers import get_provider
from .common import handle_errors, json_option, resolve_lab


@click.command()
@click.argument("name", required=False)
@json_option
@handle_errors("status")
def status(name, as_json):
    """Nodes, networks (encryption, VXLAN id), services and where they run, URLs."""
    report = labapi.status(resolve_lab(name), get_provider("dind"))
    if as_json:
        output.write(output.envelope("status", True, report, warnings=report.get("notes")))
    else:
        output.render_status(report)


@click.command(name="ls")
@json_option
@handle_errors("ls")
def ls(as_json):
    """The labs on this engine."""
    labs = labapi.list_labs(get_provider("dind"))
    if as_json:
        output.write(output.envelope("ls", True, labs))
    else:
        output.render_labs(labs)
