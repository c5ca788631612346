import click

from .. import output
from ..errors import EXIT_FAILURE
from .common import LAB_NAME, NODE_NAME, handle_errors, inventory_options, json_option, kept, provider_for, resolve_lab

TIMEOUT = click.option(
    "--timeout",
    type=click.IntRange(0, 1800),
    default=None,
    help="Seconds each expectation may take to hold (default: the drill file's bounds).",
)
HOLD = click.option(
    "--hold",
    type=click.IntRange(0, 600),
    default=None,
    help="Seconds to keep each fault once the lab has reacted (default: the drill file's).",
)


@click.group()
def drill():
    """Ops drills on a running lab: break things on a timeline, watch Swarm react, heal,
    check the lab is whole; every expectation scored.

    \b
    swarmlab drill list                    the drills of scenarios/drills/
    swarmlab drill run ID|FILE [NAME]      run one (--set node=node-2 changes a node it names)
    swarmlab drill kill-node NODE [NAME]   SIGKILL a dind node; heal: start it again
    swarmlab drill drain NODE [NAME]       drain a node; heal: active again
    swarmlab drill cut-link NODE --peer P  drop every packet between NODE and P

    The timeline says what changed and when (node status, where each service's tasks run
    or why they wait, what a request through each published endpoint got). Every fault is
    healed at the end, after an error or Ctrl-C too. Exit 0 when every expectation held."""


@drill.command(name="list")
@json_option
@handle_errors("drill list")
def list_(as_json):
    """The drills of scenarios/drills/ (a trainer adds their own files there)."""
    from .. import drills

    rows = drills.catalogue()
    if as_json:
        output.write(output.envelope("drill list", True, rows))
        return
    output.table(
        "drills",
        ["id", "faults", "needs", "params", "title"],
        [
            [
                r["id"],
                ", ".join(r["faults"]),
                ", ".join(f"{v} {k}" for k, v in r["needs"].items()) or "-",
                ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "-",
                r["title"],
            ]
            for r in rows
        ],
    )


def _ids(prefix: str) -> list:
    """Shell completion: the shipped drills' ids."""
    from .. import drills

    try:
        return [d.id for d in drills.all_drills() if d.id.startswith(prefix)]
    except Exception:  # a bad file in the folder: no completion rather than a trace in the shell
        return []


def _sets(values) -> dict:
    out = {}
    for v in values:
        key, eq, value = v.partition("=")
        if not eq:
            raise click.BadParameter(f"{v!r}: write KEY=VALUE, e.g. node=node-2", param_hint="--set")
        out[key] = value
    return out


@drill.command()
@click.argument("ref", metavar="ID|FILE", shell_complete=lambda ctx, param, incomplete: _ids(incomplete))
@click.argument("name", required=False, type=LAB_NAME)
@click.option("--set", "sets", multiple=True, metavar="KEY=NODE", help="Set one of the drill's parameters.")
@click.option(
    "--quiz",
    is_flag=True,
    help="Before each step with a question, the trainee predicts what will happen; "
    "each answer is scored on what the lab then showed.",
)
@click.option("--answers", default=None, metavar="N,N,...", help="--quiz without prompts: the choices, in order.")
@click.option("--lang", type=click.Choice(["en", "fr"]), default="en", show_default=True, help="The quiz's language.")
@TIMEOUT
@HOLD
@inventory_options
@json_option
@handle_errors("drill run")
def run(ref, name, sets, quiz, answers, lang, timeout, hold, inventory, provider, tofu, as_json):
    """Run a drill: ID is one of `drill list`, or the path of a drill file."""
    from .. import drills

    d = drills.find(ref).with_params(_sets(sets))
    ask = _asker(_picks(answers) if answers is not None else None, lang, as_json) if quiz or answers else None
    _run(d, name, timeout, hold, inventory, provider, tofu, as_json, ask, lang)


def _picks(text: str) -> list:
    words = [w.strip() for w in text.split(",")]
    if not all(w.isdigit() and 1 <= int(w) <= 6 for w in words):
        raise click.BadParameter(f"{text!r}: choice numbers 1-6, comma-separated (e.g. 2,1)", param_hint="--answers")
    return [int(w) for w in words]


def _asker(picks, lang: str, as_json: bool):
    """The question and its choices on stderr; the pick from --answers, else from the terminal."""

    def ask(quiz):
        lines = [quiz.question.get(lang) or quiz.question["en"]]
        lines += [f"  {n}. {t.get(lang) or t['en']}" for n, (t, _) in enumerate(quiz.choices, 1)]
        click.echo("\n".join(lines), err=True)
        if picks is not None:
            n = picks.pop(0) if picks else None
        elif as_json:
            raise click.UsageError("--quiz with --json needs --answers (no terminal to ask on)")
        else:
            n = click.prompt("your answer", type=click.IntRange(1, len(quiz.choices)), err=True)
        return None if n is None or n > len(quiz.choices) else n - 1

    return ask


def _run(d, name, timeout, hold, inventory, provider, tofu, as_json, ask=None, lang="en") -> None:
    from .. import drills

    progress = output.Progress()  # the timeline as it happens, on stderr
    report = drills.run(
        resolve_lab(name),
        provider_for(inventory, tofu, provider),
        d,
        say=progress.say,
        hold=hold,
        within=timeout,
        ask=ask,
    )
    doc = kept(report["lab"], "drill", output.envelope("drill", report["passed"], report))
    if as_json:
        output.write(doc)
    else:
        output.render_timeline(report["timeline"])
        params = " ".join(f"{k}={v}" for k, v in report["params"].items())
        title = f"drill {report['drill']} {params} on {report['lab']}".replace("  ", " ")
        output.render_checks(report["checks"], title)
        _render_quiz(report["quiz"], lang)
        s = report["score"]
        output.out.print(
            f"score {s['passed']}/{s['passed'] + s['failed']}"
            + (f", quiz {s['quiz']}" if "quiz" in s else "")
            + (f" ({s['unsupported']} not possible here)" if s["unsupported"] else "")
            + f", {report['seconds']}s, watched from {report['watched_from']}"
        )
    if not report["passed"]:
        raise SystemExit(EXIT_FAILURE)


def _render_quiz(quiz, lang: str) -> None:
    if quiz:
        output.table(
            "quiz (scored on what the lab showed)",
            ["step", "question", "your answer", "what held"],
            [
                [
                    str(q["step"]),
                    q["question"].get(lang) or q["question"]["en"],
                    "-" if q["picked"] is None else f"{q['picked'] + 1} ({'right' if q['correct'] else 'wrong'})",
                    ", ".join(str(n + 1) for n in q["right"]) or "none",
                ]
                for q in quiz
            ],
        )


def _builtin(kind: str, doc: str, peer: bool = False):
    """`swarmlab drill KIND NODE [NAME]`: the built-in drill file KIND with node=NODE."""

    def command(node, name, timeout, hold, inventory, provider, tofu, as_json, peer=None):
        from .. import drills

        values = {"node": node, **({"peer": peer} if peer else {})}
        _run(drills.find(kind).with_params(values), name, timeout, hold, inventory, provider, tofu, as_json)

    command.__doc__ = doc
    cmd = handle_errors(f"drill {kind}")(command)
    for deco in reversed(
        [
            click.argument("node", type=NODE_NAME),
            click.argument("name", required=False, type=LAB_NAME),
            *(
                [click.option("--peer", required=True, type=NODE_NAME, help="The node at the other end.")]
                if peer
                else []
            ),
            TIMEOUT,
            HOLD,
            inventory_options,
            json_option,
        ]
    ):
        cmd = deco(cmd)
    return drill.command(name=kind)(cmd)


_builtin(
    "kill-node", "SIGKILL a dind node (engine and tasks); heal: start it again (scenarios/drills/10-kill-node.yaml)."
)
_builtin("drain", "Drain a node: Swarm moves its tasks away; heal: active again (scenarios/drills/20-drain.yaml).")
_builtin(
    "cut-link", "Drop every packet between NODE and --peer, at NODE (scenarios/drills/30-cut-link.yaml).", peer=True
)
