import click

from .. import output
from .common import lab_command, provider_for, resolve_lab


@click.command()
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the report into DIR (default: the lab's results folder).",
)
@click.option("--kept", "kept_only", is_flag=True, help="Only what was kept: do not read the lab even if it runs.")
@lab_command("report")
def report(dest, kept_only, name, inventory, provider, tofu, as_json):
    """One page for the lab: index.html (self-contained, opens with no network) and
    report.md — the graph and status tables, the latest verify with its evidence, compare,
    drill timelines, lesson progress. Built from the results each command keeps, so it is
    made again without the lab; the lab's status is read fresh when it runs."""
    from .. import report as reportapi
    from .wiring import report_parts

    lab = resolve_lab(name)
    made = reportapi.build(lab, None if kept_only else provider_for(inventory, tofu, provider), report_parts(), dest)
    if as_json:
        output.write(output.envelope("report", True, made))
        return
    source = "the lab as it runs now" if made["live"] else "what was kept (the lab is not running)"
    click.echo(
        f"report of lab {lab}, from {source} (open index.html in a browser; it needs no network):\n"
        f"  {made['html']}\n  {made['markdown']}"
    )
