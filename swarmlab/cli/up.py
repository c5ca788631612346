import click
from rich.markup import escape

from .. import output
from ..config import load_scenario
from ..config.from_stack import load_stack
from ..config.loader import Flags
from .common import (
    LAB_NAME,
    default_scenario,
    handle_errors,
    inventory_options,
    json_option,
    kept,
    provider_for,
    provider_name,
)


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--name", type=LAB_NAME, help="Lab name (a DNS label); default: the scenario's name.")
@click.option("--nodes", type=int, help="Total number of nodes (managers included).")
@click.option("--managers", type=int, help="Number of managers (1, 3, 5; an even number is taken, as Docker takes it).")
@click.option("--pool", help="The lab's private /16 (default: auto, a free one of 10.96.0.0/12).")
@click.option(
    "--stack",
    "stack_file",
    type=click.Path(dir_okay=False),
    help="A compose file, as `docker stack deploy -c` takes it: the lab is derived from it "
    "(its networks, enough nodes for its placement constraints), no scenario needed.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    help="${VAR} values for the stack file (default: .env beside it); the environment wins.",
)
@click.option("--pull", is_flag=True, help="Let this machine (never a node) pull images it lacks.")
@click.option("--force", is_flag=True, help="Create encrypted: true networks even without ESP (they fail closed).")
@click.option("--retain", is_flag=True, help="On failure keep what was made, for inspection.")
@click.option(
    "--host-access",
    is_flag=True,
    help="Let the stack have what a sealed lab refuses (binds, the node's engine socket, devices, "
    "extra capabilities): as host_access: true in a scenario. On dind that is root on this machine.",
)
@inventory_options
@json_option
@handle_errors("up")
def up(
    scenario,
    name,
    nodes,
    managers,
    pool,
    stack_file,
    env_file,
    pull,
    force,
    retain,
    host_access,
    inventory,
    provider,
    tofu,
    as_json,
):
    """Bring a lab up (or converge a running one) and check that its stack answers.

    With --inventory the lab runs on those hosts over SSH (the scenario gives the stack
    and networks, the inventory the nodes); `down --inventory` removes only what it made."""
    from .. import lab as labapi  # here: the engine client is slow to import
    from ..providers import provider_class

    sized = provider_class(provider_name(inventory, tofu, provider)).sized_by_flags
    if not sized and (nodes or managers):
        raise click.UsageError(
            "--nodes/--managers go with dind nodes only: an inventory lists its hosts, vagrant/lab.yaml its VMs"
        )
    if scenario and stack_file:
        raise click.UsageError("give a scenario or --stack FILE, not both: a scenario names its own stack file")
    flags = Flags(name, nodes, managers, pool, sized, env_file, host_access=host_access)
    if stack_file:
        spec = load_stack(stack_file, flags)
    else:
        spec = load_scenario(
            scenario or default_scenario(),
            name=name,
            nodes=nodes,
            managers=managers,
            pool=pool,
            own_nodes=sized,
            env_file=env_file,
            host_access=host_access,
        )
    provider = provider_for(inventory, tofu, provider)
    spec = provider.nodes_for(spec)
    progress = output.Progress()
    report = labapi.up(spec, provider, force=force, retain=retain, pull=pull, say=progress.say, step=progress.step)
    progress.done()
    doc = output.envelope("up", True, report, warnings=report.get("warnings"))
    _keep(report, doc)
    if as_json:
        output.write(doc)
        return
    output.render_status(report)
    output.render_checks(report["up"]["checks"])
    for w in report.get("warnings", []):
        if w in report.get("notes", []):
            continue  # already printed under the tables
        output.out.print(f"[yellow]warning:[/] {w}")
    output.out.print(
        f"lab [bold]{report['lab']}[/] is up in {report['up']['seconds']}s; "
        f"`{escape(provider.remove_command(report['lab']))}` removes it"
    )


def _keep(report, doc) -> None:
    """What `report` will show: a lab made anew starts with nothing kept of an earlier one."""
    from .. import history

    if report["up"]["created"]:
        history.forget(report["lab"])
    kept(report["lab"], "up", doc)
    kept(report["lab"], "status", doc)
