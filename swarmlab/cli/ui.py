import click

from .. import output
from .common import lab_command, page_options, provider_for, resolve_lab


@click.command()
@page_options(8765, "whoever reaches it with the token can break the lab")
@lab_command("ui")
def ui(port, bind, allow_remote, name, inventory, provider, tofu, as_json):
    """The lab live in a browser, for the room: nodes and their tasks (moving as Swarm moves
    them), overlays, buttons that run verify or a drill (its timeline as it happens), every
    trainee lab's progress. Served on 127.0.0.1 with a token in the URL it prints; Ctrl-C stops it."""
    from .. import lab as labapi
    from .. import ui as uiapi
    from .wiring import ui_runs

    lab = resolve_lab(name)
    labapi.status(lab, provider_for(inventory, tofu, provider))  # no such lab: said now, not on the page

    def ready(url: str, fingerprint: str) -> None:
        if bind not in ("127.0.0.1", "localhost", "::1"):
            output.err.print(
                f"[yellow]warning:[/] listening on {bind}: whoever reaches it with the token can break the lab"
            )
        if as_json:
            output.write(output.envelope("ui", True, {"lab": lab, "url": url, "tls_sha256": fingerprint or None}))
        else:
            click.echo(f"lab {lab} live at {url}", err=False)
            if fingerprint:
                click.echo(
                    f"its certificate (made for this run) has SHA-256 fingerprint {fingerprint}: "
                    "check it in the browser before you accept it",
                    err=True,
                )
            click.echo("open it in a browser (the token in it is this run's); Ctrl-C stops the page", err=True)

    uiapi.serve(
        lab,
        lambda: provider_for(inventory, tofu, provider),
        ui_runs(),
        bind,
        port,
        allow_remote,
        ready,
        lambda line: click.echo(f"ui: {line}", err=True),
    )
