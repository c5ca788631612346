"""swarmlab's command line: parse, call the library, render. The only place that exits."""

import click

from .. import __version__
from .compare import compare
from .diff import diff
from .down import down
from .drill import drill
from .graph import graph
from .images import images
from .import_ import import_
from .inventory import inventory
from .lesson import lesson
from .node import exec_, shell
from .report import report
from .room import room
from .ui import ui
from .vagrant import vagrant
from .status import ls, status
from .up import up
from .verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="swarmlab")
def cli():
    """Real multi-host Docker Swarm labs on one machine: dind nodes, overlay networks,
    a web/db/redis stack, and proof of the traffic between hosts."""


for command in (
    up,
    down,
    status,
    ls,
    diff,
    import_,
    graph,
    report,
    verify,
    compare,
    drill,
    lesson,
    exec_,
    shell,
    images,
    inventory,
    vagrant,
    ui,
    room,
):
    cli.add_command(command)


def main():
    cli(prog_name="swarmlab")


if __name__ == "__main__":
    main()
