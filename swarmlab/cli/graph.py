import click

from .. import output
from .common import lab_command, provider_for, resolve_lab


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "html"]),
    default="mermaid",
    show_default=True,
    help="mermaid and dot are text; svg and html go through Graphviz.",
)
@click.option(
    "-o",
    "--output",
    "dest",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to FILE instead of stdout.",
)
@lab_command("graph")
def graph(fmt, dest, name, inventory, provider, tofu, as_json):
    """The live lab as a picture: hosts with their tasks, overlays (VXLAN id, subnet,
    encrypted or plain and why) linked to the tasks on them, published ports at the edge."""
    from .. import graph as graphapi
    from .. import lab as labapi  # here: the engine client is slow to import
    from .. import history

    report = labapi.status(resolve_lab(name), provider_for(inventory, tofu, provider))
    history.keep_status(report)
    text = graphapi.render(report, fmt)
    if dest:
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)
    if as_json:
        output.write(
            output.envelope("graph", True, {"format": fmt, "file": dest, "text": None if dest else text, "lab": report})
        )
    elif not dest:
        click.echo(text, nl=False)
    else:
        output.out.print(f"{fmt} of lab {report['lab']} written to {dest}")
