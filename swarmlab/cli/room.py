import signal

import click

from .. import grammar, output
from .common import handle_errors, json_option, page_options, provider_for
from .lesson import LANG

ROOM = click.option(
    "--name",
    "room",
    default="room",
    show_default=True,
    help="The room's name; its labs are ROOM-TRAINEE.",
    callback=lambda ctx, p, v: _checked(grammar.ROOM, v, "--name"),
)


ENGINES = click.option(
    "--engines",
    type=click.Path(dir_okay=False),
    help="An inventory of Docker engines reached over SSH: the labs are spread over them "
    "(each whole on one, placed where memory is free); default: this machine's engine.",
)


def _engines(path, say, making=False):
    from pathlib import Path

    from .. import room as roomapi

    return roomapi.engines_of(Path(path) if path else None, provider_for(), say, making)


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def _checked(rule, value, hint):
    if value is not None and rule.problem(value):
        raise click.BadParameter(rule.problem(value), param_hint=hint)
    return value


@click.group()
def room():
    """A room of trainees: one lab and one link each, a terminal on their nodes in the
    browser, and the trainer's board.

    \b
    swarmlab room start --trainees 10 --lesson gossip-blocked   the labs, then the pages (Ctrl-C stops them)
    swarmlab room status                                       every trainee's lab and progress
    swarmlab room stop                                         removes the room's labs, and nothing else"""


@room.command()
@ROOM
@click.option("--trainees", type=click.IntRange(1, 40), help="How many trainees (named trainee-1 …).")
@click.option(
    "--names",
    type=click.Path(dir_okay=False),
    help="A file of trainee names, one a line, each maybe followed by their language (alice fr).",
)
@click.option("--lesson", "lesson_id", required=True, help="The lesson every trainee does (swarmlab lesson list).")
@LANG
@ENGINES
@page_options(8770, "whoever reaches it with a token gets a shell on a lab")
@click.option("--allow-reset", is_flag=True, help="Trainees may put their own lab back at the lesson's start.")
@click.option(
    "--demo",
    metavar="LAB",
    default="",
    help="A lab (made before, e.g. swarmlab up --name demo) the board runs drills on, its quiz put to the room.",
    callback=lambda ctx, p, v: _checked(grammar.LAB, v or None, "--demo") or "",
)
@json_option
@handle_errors("room start")
def start(room, trainees, names, lesson_id, lang, engines, port, bind, allow_remote, allow_reset, demo, as_json):
    """Make one lab per trainee at the lesson's start (side by side), then serve each
    trainee's page and the trainer's board until Ctrl-C. The labs stay: start again to
    serve them anew (new links), `room stop` to remove them."""
    from pathlib import Path

    from .. import room as roomapi
    from ..lessons.model import LANGS
    from ..room import model
    from .wiring import room_drills, room_lessons

    if (trainees is None) == (names is None):
        raise click.UsageError("give --trainees N or --names FILE (one of them)")
    listed = model.names_from(Path(names), LANGS) if names else model.numbered(trainees)
    for n, _ in listed:
        _checked(grammar.LAB, model.lab_name(room, n), "--name")
    plan = roomapi.plan(room, lesson_id, lang, listed, allow_reset, demo)
    lessons = room_lessons()
    if demo:
        roomapi.check_demo(plan, provider_for())
    progress = output.Progress(quiet=as_json)
    spread = _engines(engines, progress.say, making=True)

    def prepare() -> None:
        roomapi.make(plan, spread, lessons, progress.say)
        progress.done()

    def ready(links: dict) -> None:
        if as_json:
            output.write(output.envelope("room start", True, links))
            return
        click.echo(f"room {room}: the board (keep this link to yourself): {links['board']}")
        for t in links["trainees"]:
            on = f"  (engine {t['engine']})" if engines else ""
            click.echo(f"  {t['trainee']}: {t['link']}{on}" + (f"  (lab failed: {t['error']})" if t["error"] else ""))
        if links["tls_sha256"]:
            click.echo(f"the certificate's SHA-256 fingerprint: {links['tls_sha256']}", err=True)
        if not links["terminal"]:
            click.echo("no terminal in the pages: xterm.js is not installed (scripts/setup.sh installs it)", err=True)
        click.echo("Ctrl-C stops the pages; the labs stay until `swarmlab room stop`", err=True)

    signal.signal(signal.SIGTERM, _interrupted)  # a stop from a service manager ends the pages as Ctrl-C does
    try:
        roomapi.serve(
            plan,
            spread,
            provider_for,
            lessons,
            room_drills(),
            (bind, port, allow_remote),
            ready,
            lambda line: click.echo(f"room: {line}", err=True),
            prepare,
        )
    finally:
        spread.close()


@room.command()
@ROOM
@ENGINES
@json_option
@handle_errors("room status")
def status(room, engines, as_json):
    """Every lab of the room: trainee, lesson, steps passed, hints, minutes, whole (and its
    engine, with --engines)."""
    from .. import room as roomapi
    from .wiring import room_lessons

    spread = _engines(engines, lambda s: None)
    try:
        rows = roomapi.status(room, spread, room_lessons())
    finally:
        spread.close()
    if as_json:
        output.write(output.envelope("room status", True, {"room": room, "labs": rows}))
        return
    if not rows:
        output.out.print(f"room {room} has no lab")
    output.render_progress(rows)


@room.command()
@ROOM
@ENGINES
@json_option
@handle_errors("room stop")
def stop(room, engines, as_json):
    """Remove every lab the room made (found by its signed lesson record), and nothing else:
    on every engine of --engines when given."""
    from .. import room as roomapi
    from .wiring import room_lessons

    progress = output.Progress(quiet=as_json)
    spread = _engines(engines, progress.say)
    try:
        report = roomapi.stop(room, spread, room_lessons(), progress.say)
    finally:
        spread.close()
    progress.done()
    if as_json:
        output.write(output.envelope("room stop", True, report))
        return
    output.out.print(f"room {room}: {len(report['removed'])} lab(s) removed")
    for left in report["left"]:
        output.out.print(f"  left {left['lab']}: {left['why']} (swarmlab down {left['lab']} removes it)")
