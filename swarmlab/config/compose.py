"""A compose file as `docker stack deploy` reads it, made ready for a lab:

- `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}` and
  `$$` in every value, from the environment, then `--env-file`/`.env` (as stack deploy:
  the shell wins);
- `build:` sections, built on the controller (never on a node) and tagged as the stack
  names the image (`<stack>-<service>` when it names none);
- the keys stack deploy ignores, taken out and said once as notes, not errors."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from dotenv import dotenv_values

from .. import grammar
from ..errors import ConfigError, Problem
from .stack import parse_ports
from .yamlfile import read_bounded, read_text

# What `docker stack deploy` ignores (compose v3 reference, "Not supported for docker stack deploy");
# sysctls and stop_signal it applies (20.10 and later), so they stay.
IGNORED = (
    "build",
    "cgroup_parent",
    "container_name",
    "depends_on",
    "devices",
    "external_links",
    "links",
    "network_mode",
    "restart",
    "security_opt",
    "tmpfs",
    "userns_mode",
)
_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|"
    r"\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bad>))"
)
MAX_ARGS = 64
MAX_OBJECT_BYTES = 500 * 1024  # Swarm's own limit for a secret or a config
NUMERIC_KEYS = ("published", "target", "replicas", "max_replicas_per_node", "retries", "parallelism", "max_attempts")


@dataclass(frozen=True)
class BuildSpec:
    service: str
    image: str  # the tag it gets, as the stack names it
    context: Path
    dockerfile: str = "Dockerfile"
    args: Tuple[Tuple[str, str], ...] = ()
    target: Optional[str] = None


@dataclass(frozen=True)
class FileObject:
    """A secret or config of the stack made from a file, read here (bounded) and created
    in the swarm by swarmlab: `docker stack deploy -c -` has no directory to find it in."""

    kind: str  # secrets | configs
    key: str  # its name in the stack (the file the task sees)
    name: str  # in the swarm: <stack>_<key>-<sha8>, new content a new object
    data: bytes = field(repr=False, compare=False)


@dataclass
class Prepared:
    """The stack ready for the lab, what must be built first, and what stack deploy would ignore."""

    stack: Any
    builds: Dict[str, BuildSpec] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    files: List[FileObject] = field(default_factory=list)
    ignored: Dict[str, List[str]] = field(default_factory=dict)  # key -> the services it was taken from
    hidden: Dict[str, str] = field(default_factory=dict, repr=False)  # value -> the name it is shown as


Found = Iterator[Tuple[Tuple[str, ...], str]]


def _entry(text: str) -> Tuple[str, Optional[str]]:
    """One `environment:` list entry: KEY=VALUE, or KEY alone (taken from the environment)."""
    key, eq, value = text.partition("=")
    return key, (value if eq else None)


def beside(base: Path, name: str) -> Tuple[Optional[Path], str]:
    """(the path, "") of a file a stack names, when it is in the stack's folder or below;
    (None, why) otherwise. Links are followed first, so one pointing out is out too.
    Stricter than docker stack deploy, on purpose: a stack file from elsewhere must not
    carry this machine's files (a key, a token) into the lab."""
    root = base.resolve()
    path = (root / name).resolve()
    if path != root and root not in path.parents:
        return None, (
            f"{name} is outside the stack file's folder ({root}): a stack names only files beside it "
            "or below; copy the file there (swarmlab is stricter than docker stack deploy here, "
            "so a stack from elsewhere cannot carry this machine's files into the lab)"
        )
    return path, ""


def read_env_file(path: Path) -> Dict[str, str]:
    """KEY=VALUE lines as compose reads a .env file: python-dotenv parses quotes, `export`,
    comments and ${VAR} inside it the way compose does; read bounded like every file."""

    text = read_text(path, "env file")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text), interpolate=True).items() if v is not None}


def interpolate(
    value: Any, env: Mapping[str, str], path: Tuple[str, ...] = (), used: Optional[Dict[str, str]] = None
) -> Tuple[Any, List]:
    """value with every ${...} replaced; (path, message) for each that cannot be. used, when
    given, gets value -> ${NAME} of every variable read (messages show the name, never it)."""
    problems: List[Tuple[Tuple[str, ...], str]] = []
    seen: Dict[str, str] = {} if used is None else used

    def walk(v: Any, p: Tuple[str, ...]) -> Any:
        if isinstance(v, str):
            out = _substitute(v, env, p, problems, seen)
            # as compose casts: a number that came from a variable is a number where one belongs
            if out != v and p and p[-1] in NUMERIC_KEYS and re.fullmatch(r"[0-9]{1,9}", out):
                return int(out)
            return out
        if isinstance(v, Mapping):
            return {k: walk(x, p + (str(k),)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, p + (str(i),)) for i, x in enumerate(v)]
        return v

    return walk(value, path), problems


def _substitute(text: str, env: Mapping[str, str], p: Tuple[str, ...], problems: list, seen: Dict[str, str]) -> str:
    if "$" not in text:
        return text

    def one(m: "re.Match[str]") -> str:
        if m.group("escaped"):
            return "$"
        if m.group("bad") is not None:
            problems.append(
                (p, f"invalid interpolation in {text!r}: write $$ for a literal '$', or ${{NAME}} / ${{NAME:-default}}")
            )
            return ""
        name = m.group("named") or m.group("braced")
        op, arg = m.group("op"), m.group("arg") or ""
        value = env.get(name)
        if value is not None and not (op is not None and op.startswith(":") and value == ""):
            seen[value] = f"${{{name}}}"
            return value
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            problems.append(
                (
                    p,
                    f"${{{name}}} is required: {arg or 'set it'} (in the environment, "
                    ".env beside the stack file, or --env-file)",
                )
            )
            return ""
        return ""  # unset, no default: empty, as stack deploy does (it warns)

    return _VAR.sub(one, text)


def hide(message: str, hidden: Mapping[str, str]) -> str:
    """message with every value of hidden (a variable's, an env file's) shown as its name;
    values under 4 characters are no secret and would only garble the message."""
    for value in sorted((v for v in hidden if len(v) >= 4), key=len, reverse=True):
        message = message.replace(value, hidden[value])
    return message


def for_docker(written: Any, stack_name: str) -> Any:
    """The file as written, for Docker's verdict: env_file read here instead (Docker would
    read a path, a FIFO among them, with no bound); a build: service without an image gets
    the name swarmlab builds it as (our extension: Docker alone wants an image)."""
    out = copy.deepcopy(written)
    services = out.get("services") if isinstance(out, Mapping) else None
    for name, svc in services.items() if isinstance(services, Mapping) else ():
        if isinstance(svc, dict):
            svc.pop("env_file", None)
            if "build" in svc:
                svc.setdefault("image", default_image(stack_name, str(name)))
    return out


def default_image(stack_name: str, service: str) -> str:
    return f"{stack_name}-{service.lower()}:latest"  # compose's own default


def for_stack_deploy(stack: Any) -> Any:
    """The stack as text for `docker stack deploy` once we have interpolated it: every '$'
    left is a literal one (the file's `$$`), so it is written `$$` again, or stack deploy
    would interpolate it a second time on the node (a health check's `$$POSTGRES_USER`
    became empty)."""

    def esc(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("$", "$$")
        if isinstance(v, Mapping):
            return {esc(k): esc(x) for k, x in v.items()}
        if isinstance(v, list):
            return [esc(x) for x in v]
        return v

    return esc(stack)


def prepare(stack: Any, stack_path: Path, stack_name: str) -> Tuple[Prepared, List]:
    """The stack with builds resolved to image names and ignored keys taken out."""
    out = Prepared(stack)
    problems: List[Tuple[Tuple[str, ...], str]] = []
    services = stack.get("services") if isinstance(stack, Mapping) else None
    if not isinstance(services, Mapping):
        return out, problems
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        if "env_file" in svc:
            _inline_env_files(svc, stack_path.parent, out.hidden, ("services", str(name), "env_file"), problems)
        if "build" in svc:
            svc.setdefault("image", default_image(stack_name, str(name)))
            spec, found = _build(str(name), svc, stack_path.parent)
            problems += [(("services", str(name), "build") + p, m) for p, m in found]
            if spec is not None:
                out.builds[str(name)] = spec
        ips = sorted({p.host_ip for p in _ports(svc) if p.host_ip})
        if ips:
            out.notes.append(
                f"{stack_path.name}: services.{name}.ports: host IP {', '.join(ips)} ignored: a Swarm "
                "service publishes on every address of its nodes (docker stack deploy does the same)"
            )
        for key in IGNORED:
            if key in svc:
                del svc[key]
                out.ignored.setdefault(key, []).append(str(name))
    out.files, found = _file_objects(stack, stack_path.parent, stack_name)
    problems += found
    if "build" in out.ignored:
        out.notes.append(
            f"{stack_path.name}: build ({', '.join(out.ignored['build'])}): built on the controller "
            "(a swarmlab extension: docker stack deploy ignores build)"
        )
    return out, problems


def ignored_notes(prepared: Prepared, stack_path: Path, named: Set[str]) -> List[str]:
    """swarmlab's words for the keys it took out that Docker did not name (Docker drops
    depends_on and a service's tmpfs without a word; or Docker was not asked)."""
    return [
        f"{stack_path.name}: {key} ({', '.join(names)}): dropped, as docker stack deploy drops it "
        f"(said by swarmlab: docker does not say it)"
        for key, names in prepared.ignored.items()
        if key != "build" and key not in named
    ]


def _ports(svc: Mapping) -> list:
    try:
        return parse_ports(svc.get("ports") or []) if isinstance(svc.get("ports"), list) else []
    except (ValueError, TypeError):
        return []  # said by the stack's checks


def _inline_env_files(svc: dict, base: Path, hidden: Dict[str, str], p: Tuple[str, ...], problems: list) -> None:
    """env_file: read here (bounded, beside the stack) and given to the service as values:
    the node would resolve a path against its own folders. environment: wins, as in compose."""
    files = svc.pop("env_file")
    values: Dict[str, Any] = {}
    for i, name in enumerate(files if isinstance(files, list) else [files]):
        where = p + (str(i),) if isinstance(files, list) else p
        if not isinstance(name, str):
            problems.append((where, "must be a path to a file, relative to the stack file"))
            continue
        path, why = beside(base, name)
        try:
            if path is None:
                raise ConfigError([Problem(name, "", why)])
            read = read_env_file(path)
        except ConfigError as exc:
            problems.append((where, exc.problems[0].message if path is None else f"{exc.problems[0].message}: {path}"))
            continue
        values.update(read)
        hidden.update({v: f"(the value of {k} in {name})" for k, v in read.items()})
    env = svc.get("environment")
    if isinstance(env, list):
        env = dict(_entry(str(e)) for e in env)
    if env is None or isinstance(env, Mapping):  # another shape is left for Docker's verdict to refuse
        svc["environment"] = {**values, **(env or {})}


def _build(name: str, svc: dict, base: Path) -> Tuple[Optional[BuildSpec], list]:
    spec = svc["build"]
    if isinstance(spec, str):
        spec = {"context": spec}
    if not isinstance(spec, Mapping):
        return None, [((), "must be a path (the context) or a mapping with context, dockerfile, args, target")]
    problems = []
    unknown = sorted(set(spec) - {"context", "dockerfile", "args", "target"})
    for key in unknown:
        problems.append(
            ((str(key),), "not supported by swarmlab's builder (context, dockerfile, args, target are); remove it")
        )
    context = spec.get("context", ".")
    if not isinstance(context, str) or "://" in context:
        return None, problems + [
            (("context",), "must be a directory on this machine (no URL), relative to the stack file")
        ]
    root, why = beside(base, context)
    if root is None:
        return None, problems + [(("context",), why)]
    if not root.is_dir():
        problems.append((("context",), f"{root} is not a directory; the path is relative to the stack file"))
    dockerfile = spec.get("dockerfile", "Dockerfile")
    if not isinstance(dockerfile, str) or not dockerfile:
        problems.append((("dockerfile",), "must be a file name in the context"))
    elif outside := beside(base, str(root / dockerfile))[1]:  # a dockerfile of ../ leaves the folder
        problems.append((("dockerfile",), outside))
    elif root.is_dir() and not (root / dockerfile).is_file():
        problems.append((("dockerfile",), f"no file {dockerfile!r} in {root}"))
    args = _args(spec.get("args"), problems)
    target = spec.get("target")
    if target is not None and not (
        isinstance(target, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", target)
    ):
        problems.append((("target",), f"must be a stage name of the Dockerfile, got {target!r}"))
    image = svc["image"]
    if not isinstance(image, str) or grammar.IMAGE.problem(image):
        return None, problems  # the image's own check says why
    if problems:
        return None, problems
    return BuildSpec(name, image, root, dockerfile, args, target), []


def _file_objects(stack: Mapping, base: Path, stack_name: str) -> Tuple[List[FileObject], list]:
    out, problems = [], []
    for kind in ("secrets", "configs"):
        section = stack.get(kind)
        for key, spec in section.items() if isinstance(section, Mapping) else []:
            if not isinstance(spec, Mapping) or "file" not in spec:
                continue
            p = (kind, str(key), "file")
            if not isinstance(spec["file"], str):
                problems.append((p, "must be a path to a file, relative to the stack file"))
                continue
            path, why = beside(base, spec["file"])
            if path is None:
                problems.append((p, why))
                continue
            try:
                data = read_bounded(path, kind[:-1] + " file", MAX_OBJECT_BYTES)
            except ConfigError as exc:
                problems.append((p, exc.problems[0].message + f": {base / spec['file']}"))
                continue
            digest = hashlib.sha256(data).hexdigest()[:8]
            base_name = str(spec.get("name") or f"{stack_name}_{key}")[:55]
            out.append(FileObject(kind, str(key), f"{base_name}-{digest}", data))
    return out, problems


def _args(value: Any, problems: list) -> Tuple[Tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        pairs = [str(x).split("=", 1) if "=" in str(x) else [str(x), os.environ.get(str(x), "")] for x in value]
    elif isinstance(value, Mapping):
        pairs = [[str(k), "" if v is None else str(v)] for k, v in value.items()]
    else:
        problems.append((("args",), "must be a mapping or a list of NAME=value"))
        return ()
    if len(pairs) > MAX_ARGS:
        problems.append((("args",), f"at most {MAX_ARGS} build args"))
        return ()
    for k, _ in pairs:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", k):
            problems.append((("args", k), "a build arg's name is letters, digits and '_'"))
    return tuple((k, v) for k, v in pairs)
