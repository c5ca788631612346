import json

import click

from .. import output
from ..errors import EXIT_FAILURE
from ..providers import BY_FLAG
from .common import LAB_NAME, endpoint_of, endpoint_options, handle_errors, inventory_options, json_option, provider_for


@click.command()
@click.argument("a", type=LAB_NAME)
@click.argument("b", type=LAB_NAME)
@click.option(
    "--a-inventory",
    type=click.Path(dir_okay=False),
    help="A is on the hosts of this SSH inventory (B is where --inventory or --provider says).",
)
@click.option(
    "--a-provider",
    type=click.Choice(list(BY_FLAG)),
    help="A is a lab of this provider (a lab on the VMs against its copy on dind nodes, say).",
)
@endpoint_options("a-")
@inventory_options
@json_option
@handle_errors("diff")
def diff(a, b, a_inventory, a_provider, context, docker_host, inventory, provider, tofu, as_json):
    """Two labs compared as one model: nodes (roles, labels, availability), networks and
    their options, services and every setting a stack file can state, and where their tasks
    run. Exit 1 when they differ.

    With --a-context or --a-docker-host, A is the whole swarm of that manager (one swarmlab
    did not make, say the source of an import), and A only names it in the output."""
    from .. import diff as diffapi  # here: the engine client is slow to import

    if a_inventory and a_provider:
        raise click.UsageError("--a-inventory and --a-provider do not go together: give where A is once")
    where_a = provider_for(a_inventory, tofu, provider) if a_inventory else None
    where_a = provider_for(provider=a_provider) if a_provider else where_a
    report = diffapi.run(a, b, provider_for(inventory, tofu, provider), where_a, endpoint_of(context, docker_host))
    if as_json:
        output.write(output.envelope("diff", report["same"], report))
        return _exit(report)
    if report["nodes_paired"]:
        click.echo("nodes paired in order: " + ", ".join(f"{x} = {y}" for x, y in report["nodes_paired"].items()))
    if report["same"]:
        click.echo(f"labs {a} and {b}: no difference")
    else:
        click.echo(f"labs {a} and {b} differ in {len(report['differences'])} place(s):")
        for d in report["differences"]:
            shown = [v if v == diffapi.ABSENT else _one_line(v) for v in (d["a"], d["b"])]
            click.echo(f"  {d['path']}: {shown[0]} ({a}) | {shown[1]} ({b})")
    _exit(report)


def _exit(report) -> None:
    if not report["same"]:
        raise SystemExit(EXIT_FAILURE)


def _one_line(value) -> str:
    """A value of the lab on one line, control characters escaped (JSON's quoting)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True)
    return text if len(text) <= 200 else text[:197] + "..."
