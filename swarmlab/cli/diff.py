import json

import click

from .. import output
from ..errors import EXIT_FAILURE
from .common import LAB_NAME, handle_errors, inventory_options, json_option, provider_for


@click.command()
@click.argument("a", type=LAB_NAME)
@click.argument("b", type=LAB_NAME)
@inventory_options
@json_option
@handle_errors("diff")
def diff(a, b, inventory, provider, tofu, as_json):
    """Two labs compared as one model: nodes (roles, labels, availability), networks and
    their options, services and every setting a stack file can state, and where their tasks
    run. Exit 1 when they differ."""
    from .. import diff as diffapi  # here: the engine client is slow to import

    report = diffapi.run(a, b, provider_for(inventory, tofu, provider))
    if as_json:
        output.write(output.envelope("diff", report["same"], report))
    elif report["same"]:
        click.echo(f"labs {a} and {b}: no difference")
    else:
        click.echo(f"labs {a} and {b} differ in {len(report['differences'])} place(s):")
        for d in report["differences"]:
            shown = [v if v == diffapi.ABSENT else _one_line(v) for v in (d["a"], d["b"])]
            click.echo(f"  {d['path']}: {shown[0]} ({a}) | {shown[1]} ({b})")
    if not report["same"]:
        raise SystemExit(EXIT_FAILURE)


def _one_line(value) -> str:
    """A value of the lab on one line, control characters escaped (JSON's quoting)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True)
    return text if len(text) <= 200 else text[:197] + "..."
