import click

from .. import drill as drillapi
from .. import output
from ..errors import EXIT_FAILURE
from .common import handle_errors, inventory_options, json_option, provider_for, resolve_lab, LAB_NAME, NODE_NAME


@click.command()
@click.argument("kind", type=click.Choice(list(drillapi.KINDS)))
@click.argument("node", type=NODE_NAME)
@click.argument("name", required=False, type=LAB_NAME)
@click.option("--peer", type=NODE_NAME, help="cut-link: the node at the other end of the link.")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(10, 1800),
              help="Seconds to wait for Swarm to react, and again for the lab to recover after the heal.")
@click.option("--hold", default=10, show_default=True, type=click.IntRange(0, 600),
              help="Seconds to keep the fault once Swarm has reacted (watch what still answers).")
@inventory_options
@json_option
@handle_errors("drill")
def drill(kind, node, peer, name, timeout, hold, inventory, provider, tofu, as_json):
    """An ops drill on a running lab: break one thing, watch Swarm react, heal it, check it recovers.

    \b
    kill-node NODE        SIGKILL a dind node (engine and tasks); heal: start it again
    drain NODE            docker node update --availability drain; heal: active again
    cut-link NODE --peer P  drop every packet between NODE and P; heal: remove the rules

    The timeline says what changed and when (node status, where each service's tasks run or why
    they wait, what a request through each published endpoint got). The fault is always healed,
    on an error or Ctrl-C too. Exit 0 when Swarm reacted and the lab recovered whole."""
    progress = output.Progress()   # the timeline as it happens, on stderr
    report = drillapi.run(resolve_lab(name), provider_for(inventory, tofu, provider), kind, node, peer,
                          timeout=timeout, hold=hold, say=progress.say)
    if as_json:
        output.write(output.envelope("drill", report["passed"], report))
    else:
        output.render_timeline(report["timeline"])
        output.render_checks(report["checks"], f"drill {kind} {node}" + (f" <-> {peer}" if peer else "")
                             + f" on {report['lab']}")
        output.out.print(f"{report['seconds']}s, watched from {report['watched_from']}")
    if not report["passed"]:
        raise SystemExit(EXIT_FAILURE)
