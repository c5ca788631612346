"""What every command shares: error handling with named exit codes, and --json."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from .. import grammar, output
from ..errors import EXIT_CONFIG, EXIT_FAILURE, ConfigError, Problem, SwarmlabError

DEFAULT_SCENARIO = "scenarios/default.yaml"


def lab_command(command: str):
    """The options every command on one lab shares: its NAME (checked), where its hosts
    are (--inventory, --provider), --json, and the error handling with exit codes."""

    def deco(f):
        f = handle_errors(command)(f)
        f = json_option(f)
        f = inventory_options(f)
        return click.argument("name", required=False, type=LAB_NAME)(f)

    return deco


def kept(lab: str, kind: str, envelope: str) -> str:
    """A command's envelope, kept as the lab's latest `kind` for `report` (history.py)."""
    from .. import history

    history.keep(lab, kind, envelope)
    return envelope


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print a versioned JSON envelope on stdout.")(f)


def handle_errors(command: str):
    """Turn SwarmlabErrors into one clear message (or a JSON envelope) and an exit code."""

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            as_json = kwargs.get("as_json", False)
            try:
                return f(*args, **kwargs)
            except click.ClickException as exc:  # a usage problem found after parsing: bad input
                if as_json:
                    output.write(output.envelope(command, False, errors=[exc.format_message()]))
                output.print_error([exc.format_message()])
                raise SystemExit(exc.exit_code if exc.exit_code else EXIT_CONFIG) from None
            except SwarmlabError as exc:
                if as_json:
                    output.write(output.envelope(command, False, errors=exc.lines()))
                output.print_error(exc.lines())
                raise SystemExit(exc.exit_code) from None
            except KeyboardInterrupt:
                output.print_error(["interrupted"])
                raise SystemExit(130) from None
            except Exception as exc:  # a bug: still one message and a non-zero exit
                if as_json:
                    output.write(output.envelope(command, False, errors=[f"{exc.__class__.__name__}: {exc}"]))
                output.print_error(
                    [
                        f"unexpected {exc.__class__.__name__}: {exc}",
                        "this is a swarmlab bug; please report it with the command you ran",
                    ]
                )
                raise SystemExit(EXIT_FAILURE) from None

        return wrapper

    return deco


def default_scenario() -> str:
    """scenarios/default.yaml of the working directory, else the one beside the package."""
    if Path(DEFAULT_SCENARIO).exists():
        return DEFAULT_SCENARIO
    shipped = Path(__file__).resolve().parents[2] / DEFAULT_SCENARIO
    return str(shipped) if shipped.exists() else DEFAULT_SCENARIO


class NameType(click.ParamType):
    """A name checked against its grammar where it enters: a bad one is exit 2 before
    anything is read, made or sent."""

    def __init__(self, rule: grammar.Rule, metavar: str):
        self.rule, self.name = rule, metavar

    def convert(self, value, param, ctx):
        problem = self.rule.problem(value)
        if problem:
            self.fail(problem, param, ctx)
        return value


LAB_NAME = NameType(grammar.LAB, "NAME")
NODE_NAME = NameType(grammar.NODE, "NODE")


def resolve_lab(name):
    """The lab a command without NAME means: the default scenario's name (checked as a
    name given on the command line is: the file may say anything)."""
    if name:
        return name
    from ..config import yamlfile

    path = Path(default_scenario())
    try:
        data, lines = yamlfile.load(path, "scenario file")
    except ConfigError:
        return "lab"  # no readable default scenario: the name it would have had
    value = data.get("name", path.stem) if isinstance(data, dict) else path.stem
    problem = grammar.LAB.problem(value)
    if problem:
        raise ConfigError(
            [Problem(str(path), "name", problem, yamlfile.line_of(lines, ("name",)))], "the default scenario"
        )
    return value


def inventory_options(f):
    """Where the lab's hosts come from: --provider dind (default) or vagrant, or --inventory
    FILE (hosts reached over SSH), with --trust-on-first-use."""
    f = click.option(
        "--trust-on-first-use",
        "tofu",
        is_flag=True,
        help="Accept host keys not pinned in the inventory and record them in its known_hosts.",
    )(f)
    from ..providers import BY_FLAG, DEFAULT

    f = click.option(
        "--provider",
        "provider",
        type=click.Choice(list(BY_FLAG)),
        default=DEFAULT,
        show_default=True,
        help="dind: containers on this engine; vagrant: the VMs of "
        "vagrant/Vagrantfile (libvirt, or SWARMLAB_VAGRANT_PROVIDER=virtualbox).",
    )(f)
    return click.option(
        "--inventory",
        "-i",
        type=click.Path(dir_okay=False),
        help="Run on the hosts of this SSH inventory (inventories/example.yaml) instead of dind nodes.",
    )(f)


def provider_name(inventory=None, tofu: bool = False, provider: str = "dind") -> str:
    """Which registered provider the flags choose: --inventory FILE is the ssh provider."""
    from ..providers import DEFAULT

    if inventory and provider != DEFAULT:
        raise click.UsageError(
            f"--inventory and --provider {provider} do not go together: the inventory lists the hosts"
        )
    if tofu and not inventory:
        raise click.UsageError("--trust-on-first-use goes with --inventory")
    return "ssh" if inventory else provider


def provider_for(inventory=None, tofu: bool = False, provider: str = "dind"):
    """The provider the flags choose, from the registry (an inventory is checked first,
    every problem at once)."""
    from ..providers import get_provider

    name = provider_name(inventory, tofu, provider)
    return get_provider(name, inventory=inventory, trust_on_first_use=tofu) if inventory else get_provider(name)


def endpoint_options(prefix: str):
    """--context / --docker-host (with a prefix: --a-context, for diff's first lab): a
    swarm's manager as the docker CLI reaches it."""

    def add(f):
        f = click.option(
            f"--{prefix}docker-host",
            "docker_host",
            metavar="URL",
            help="A swarm's manager as DOCKER_HOST names it (tcp://HOST:PORT, ssh://[USER@]HOST).",
        )(f)
        return click.option(
            f"--{prefix}context", "context", metavar="NAME", help="A swarm's manager as a docker context."
        )(f)

    return add


def endpoint_of(context, docker_host):
    """The transport to that manager, or None when neither is given."""
    if not context and not docker_host:
        return None
    from ..transport.endpoint import EndpointTransport

    return EndpointTransport(context or "", docker_host or "")


def copy_name(dest) -> str:
    """The name a copy gets when nothing names it: its folder's, if that is a lab name."""
    name = Path(dest).name
    return name if grammar.LAB.ok(name) else "imported"


def page_options(port: int, risk: str):
    """Where a page listens: --port, --host, --allow-remote (`risk`: what whoever reaches it
    with its token can do)."""

    def deco(f):
        f = click.option(
            "--allow-remote",
            is_flag=True,
            help="Listen on a non-loopback --host, over TLS with a certificate made for this run "
            "(its fingerprint printed).",
        )(f)
        f = click.option(
            "--host",
            "bind",
            default="127.0.0.1",
            show_default=True,
            help=f"The address to listen on; anything but the loopback needs --allow-remote ({risk}).",
        )(f)
        return click.option(
            "--port", type=click.IntRange(0, 65535), default=port, show_default=True, help="The port (0: any free one)."
        )(f)

    return deco
