import os
import sys

import click

from ..errors import PreflightError
from .common import LAB_NAME, NODE_NAME, handle_errors, inventory_options, provider_for, resolve_lab


@click.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("node", type=NODE_NAME)
@click.argument("name", required=False, type=LAB_NAME)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option(
    "--timeout", default=600, show_default=True, type=click.IntRange(1, 86400), help="Seconds the command may run."
)
@inventory_options
@handle_errors("exec")
def exec_(node, name, command, timeout, inventory, provider, tofu):
    """Run a command on one node of the lab, with that node's own docker CLI:
    `swarmlab exec node-1 -- docker service ls`. Exits with the command's code."""
    from ..observe.running import open_lab

    host = open_lab(resolve_lab(name), provider_for(inventory, tofu, provider)).node(node)
    r = host.transport.run(list(command), warn=True, timeout=timeout)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    raise SystemExit(r.exited)


@click.command()
@click.argument("node", type=NODE_NAME)
@click.argument("name", required=False, type=LAB_NAME)
@inventory_options
@handle_errors("shell")
def shell(node, name, inventory, provider, tofu):
    """A login shell on one node of the lab (its docker CLI talks to that node's engine)."""
    from ..observe.running import open_lab

    if not sys.stdin.isatty():
        raise click.UsageError("shell needs a terminal; for one command use: swarmlab exec NODE -- CMD")
    argv = open_lab(resolve_lab(name), provider_for(inventory, tofu, provider)).node(node).transport.interactive()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        raise PreflightError(
            f"cannot run {argv[0]}: {exc.strerror}",
            hint="install it (an OpenSSH client for SSH hosts), or use swarmlab exec",
        ) from None
