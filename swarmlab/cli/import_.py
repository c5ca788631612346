import click

from .. import output
from .common import (
    LAB_NAME,
    copy_name,
    endpoint_of,
    endpoint_options,
    handle_errors,
    inventory_options,
    json_option,
    provider_for,
)


@click.command("import")
@click.argument("source", type=LAB_NAME, required=False)
@click.option(
    "-o",
    "--output",
    "dest",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder to write (it must not exist): scenario.yaml, one stack file per stack, configs/, .env.example.",
)
@click.option(
    "--keep-subnets", is_flag=True, help="Give each network of the copy the source's subnet, not one of its own pool."
)
@click.option(
    "--fetch-images",
    is_flag=True,
    help="Copy each image this machine lacks from a node of the source that holds it (docker save there, "
    "docker load here): nothing is pulled from a registry.",
)
@endpoint_options("")
@inventory_options
@json_option
@handle_errors("import")
def import_(source, dest, keep_subnets, fetch_images, context, docker_host, inventory, provider, tofu, as_json):
    """Write the files that make a copy of the running lab SOURCE: its nodes (roles, labels,
    availability), networks and their options, and its services with every setting a stack
    file can state. Secrets are carried by name (a copy makes its own), environment values
    that look secret by name only (.env.example). Then `up` the copy and `diff` the two.

    With --context or --docker-host, the whole swarm of that manager is read (one swarmlab
    did not make), and SOURCE only names the copy (by default, the folder's name)."""
    from .. import imports  # here: the engine client is slow to import

    endpoint = endpoint_of(context, docker_host)
    if endpoint is None and not source:
        raise click.UsageError("give SOURCE (a lab), or --context / --docker-host (a swarm's manager)")
    source = source or copy_name(dest)
    progress = output.Progress(quiet=as_json)
    report = imports.run(
        source, provider_for(inventory, tofu, provider), dest, keep_subnets, endpoint, fetch_images, progress.say
    )
    progress.done()
    if as_json:
        output.write(output.envelope("import", True, report))
        return
    click.echo(f"lab {source} written to {dest}/: {', '.join(report['files'])}")
    for note in report["notes"]:
        click.echo(f"  note: {note}")
    for bind in report["binds"]:
        click.echo(f"  bind mount {bind}: the copy needs --host-access on up (a sealed lab refuses binds)")
    click.echo("images the copy needs:")
    for img in report["images"]:
        ran = f", ran as {img['digest']}" if img["digest"] else ""
        click.echo(f"  {img['image']}: {img['from']}{ran}")
    if report["hidden"]:
        click.echo(
            f"not copied, looks secret: {', '.join(report['hidden'])}; set them in the environment "
            f"or in {dest}/.env (see {dest}/.env.example) before up"
        )
    flags = " --host-access" if report["binds"] else ""
    click.echo(f"next: swarmlab up {dest}/scenario.yaml --name {source}-copy{flags}")
    where = (
        f" --a-context {context}"
        if context
        else f" --a-docker-host {docker_host}"
        if docker_host
        else f" --a-inventory {inventory}"
        if inventory
        else ""
    )
    click.echo(f"then: swarmlab diff {source} {source}-copy{where}")
