import click

from .. import lab as labapi
from .. import output
from ..providers import get_provider
from .common import handle_errors, json_option, resolve_lab


@click.command()
@click.argument("name", required=False)
@json_option
@handle_errors("down")
def down(name, as_json):
    """Remove a lab: stack, nodes, networks, volumes, cgroups. A missing lab is fine."""
    progress = output.Progress(quiet=as_json)
    result = labapi.down(resolve_lab(name), get_provider("dind"), say=progress.say)
    if as_json:
        output.write(output.envelope("down", True, result))
    elif result["existed"]:
        r = result["removed"]
        output.out.print(f"lab {result['lab']} removed in {result['seconds']}s: {r['containers']} containers, "
                         f"{r['volumes']} volumes, {r['networks']} networks, {r['cgroups']} cgroup trees")
    else:
        output.out.print(f"no lab {result['lab']}: nothing to remove")
