import click

from .. import output
from ..errors import EXIT_FAILURE
from .common import (
    LAB_NAME,
    handle_errors,
    inventory_options,
    json_option,
    kept,
    lab_command,
    provider_for,
    resolve_lab,
)

LANG = click.option(
    "--lang",
    type=click.Choice(["en", "fr"]),
    default="en",
    show_default=True,
    help="The language of the texts (the team's teaching material is French).",
)


@click.group()
def lesson():
    """Lessons and troubleshooting exercises, graded on what the lab really shows.

    \b
    swarmlab lesson list                   the lessons, in course order
    swarmlab lesson start ID [NAME]        the lab at the lesson's start, and its brief
    swarmlab lesson check [NAME]           every step graded on evidence (exit 0: solved)
    swarmlab lesson hint [NAME]            the next hint (counted)
    swarmlab lesson solution [NAME]        the commands (--apply runs them)
    swarmlab lesson reset [NAME]           back to the lesson's start
    swarmlab lesson progress [NAME]        every trainee lab: steps done, hints, time"""


@lesson.command(name="list")
@LANG
@json_option
@handle_errors("lesson list")
def list_(lang, as_json):
    """The lessons of scenarios/lessons/ (a trainer adds their own files there)."""
    from .. import lessons

    rows = lessons.catalogue(lang)
    if as_json:
        output.write(output.envelope("lesson list", True, rows))
        return
    output.table(
        "lessons",
        ["id", "type", "minutes", "steps", "title"],
        [[r["id"], r["type"], r["minutes"], r["steps"], r["title"]] for r in rows],
    )


def _ids(ctx, param, prefix: str) -> list:
    """Shell completion: the shipped lessons' ids."""
    from ..lessons.model import all_lessons

    try:
        return [x.id for x in all_lessons() if x.id.startswith(prefix)]
    except Exception:  # a bad file in the folder: no completion rather than a trace in the shell
        return []


@lesson.command()
@click.argument("lesson_id", metavar="ID", shell_complete=_ids)
@click.argument("name", required=False, type=LAB_NAME)
@LANG
@click.option("--trainee", default="", help="Who does the lesson (shown by lesson progress).")
@inventory_options
@json_option
@handle_errors("lesson start")
def start(lesson_id, name, lang, trainee, inventory, provider, tofu, as_json):
    """Bring the lab up (or reuse it) at the lesson's start and print the brief.
    ID is a lesson's id (lesson list) or the path of a lesson file."""
    from .. import grammar, lessons

    if trainee and grammar.LABEL_VALUE.problem(trainee):
        raise click.BadParameter(
            grammar.LABEL_VALUE.problem(trainee).replace("label value", "trainee"), param_hint="--trainee"
        )
    progress = output.Progress()
    report = lessons.start(lesson_id, name, provider_for(inventory, tofu, provider), lang, trainee, say=progress.say)
    progress.done()
    if as_json:
        output.write(output.envelope("lesson start", True, report))
        return
    output.render_brief(report)


@lesson.command()
@lab_command("lesson check")
def check(name, inventory, provider, tofu, as_json):
    """Grade every step on evidence from the lab. Exit 0 when the lesson is solved."""
    from .. import lessons

    report = lessons.check(resolve_lab(name), provider_for(inventory, tofu, provider))
    if as_json:
        output.write(output.envelope("lesson check", report["solved"], report))
    else:
        output.render_checks(report["steps"], f"{report['lesson']}: {report['title']}")
        output.out.print(f"{report['passed']}/{report['of']} steps hold" + (" — solved" if report["solved"] else ""))
    if not report["solved"]:
        raise SystemExit(EXIT_FAILURE)


@lesson.command()
@lab_command("lesson hint")
def hint(name, inventory, provider, tofu, as_json):
    """The next hint (each one asked for is counted in the progress)."""
    from .. import lessons

    report = lessons.hint(resolve_lab(name), provider_for(inventory, tofu, provider))
    if as_json:
        output.write(output.envelope("lesson hint", True, report))
    elif report["hint"] is None:
        output.out.print("this lesson has no hints")
    else:
        output.out.print(f"hint {report['number']}/{report['of']}: {output.escape(report['hint'])}")


@lesson.command()
@lab_command("lesson solution")
@click.option("--apply", "apply_", is_flag=True, help="Run the commands (a trainer's demo).")
def solution(name, apply_, inventory, provider, tofu, as_json):
    """The commands that solve the lesson, as a trainee types them; --apply runs them."""
    from .. import lessons

    progress = output.Progress(quiet=as_json)
    report = lessons.solution(resolve_lab(name), provider_for(inventory, tofu, provider), apply_, say=progress.say)
    if as_json:
        output.write(output.envelope("lesson solution", True, report))
        return
    for c in report["commands"]:
        output.out.print(output.escape(c["typed"]), highlight=False, soft_wrap=True)


@lesson.command()
@lab_command("lesson reset")
def reset(name, inventory, provider, tofu, as_json):
    """Back to the lesson's start (its checkpoint): what the trainee changed is undone."""
    from .. import lessons

    progress = output.Progress(quiet=as_json)
    report = lessons.reset(resolve_lab(name), provider_for(inventory, tofu, provider), say=progress.say)
    progress.done()
    if as_json:
        output.write(output.envelope("lesson reset", True, report))
    else:
        output.out.print(f"lab {report['lab']} is back at the start of {report['lesson']} ({report['seconds']}s)")


@lesson.command(name="progress")
@click.argument("name", required=False, type=LAB_NAME)
@inventory_options
@json_option
@handle_errors("lesson progress")
def progress_(name, inventory, provider, tofu, as_json):
    """Every lab's lesson on this engine (or one lab's): trainee, steps passed, hints, time."""
    from .. import lessons

    rows = lessons.progress(provider_for(inventory, tofu, provider), name)
    for row in rows:  # each lab's own record, for its report
        if row.get("lesson"):
            kept(row["lab"], "lessons", output.envelope("lesson progress", True, [row]))
    if as_json:
        output.write(output.envelope("lesson progress", True, rows))
        return
    output.render_progress(rows)
