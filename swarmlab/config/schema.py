"""The scenario schema (strict: unknown keys are errors) and human messages for it."""

from __future__ import annotations

from typing import Any, Iterator, Tuple

import jsonschema

API_VERSION = "swarmlab/v1"
KIND = "Scenario"

_labels = {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean"]}}

MAX_STACKS = 20  # each is a `docker stack deploy` and Docker's verdict on its file
_stack = {
    "type": "object",
    "additionalProperties": False,
    "required": ["file"],
    "properties": {
        "file": {"type": "string"},
        "name": {"type": "string"},
        "env_file": {"type": "string"},  # ${VAR} values (default: .env beside the stack file)
    },
}

SCENARIO_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "nodes", "networks"],
    "oneOf": [{"required": ["stack"]}, {"required": ["stacks"]}],
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "name": {"type": "string"},
        "description": {"type": "string", "maxLength": 4096},
        # the stack may mount the host's root, its engine socket or /sys, or add every
        # capability: refused in a sealed lab unless the scenario says so here
        "host_access": {"type": "boolean"},
        "nodes": {
            "type": "object",
            "additionalProperties": False,
            "required": ["managers"],
            "properties": {
                "managers": {"type": "integer", "minimum": 1, "maximum": 99},
                "workers": {"type": "integer", "minimum": 0, "maximum": 999},
                "labels": {"type": "object", "additionalProperties": _labels},
                # a node drained or paused from the start (an imported lab's, as its source had it)
                "availability": {"type": "object", "additionalProperties": {"enum": ["active", "pause", "drain"]}},
            },
        },
        "network": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"pool": {"type": "string"}},
        },
        "networks": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    "encrypted": {"enum": [True, False, "auto"]},
                    "attachable": {"type": "boolean"},
                    "internal": {"type": "boolean"},  # no way out of the lab (docker network create --internal)
                    "labels": _labels,
                    "subnet": {"type": "string"},  # its own subnet instead of one of the lab's pool
                },
            },
        },
        "stack": _stack,
        # several stacks, each deployed as its own (an imported swarm had several); the
        # first is the one verify, drills and lessons name
        "stacks": {"type": "array", "minItems": 1, "maxItems": MAX_STACKS, "items": _stack},
        "wait": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
                "ports": {"type": "boolean"},  # every published TCP port accepts a connection
                "http": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["service", "port"],
                    "properties": {
                        "service": {"type": "string"},
                        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                        "path": {"type": "string", "pattern": "^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$"},
                    },
                },
            },
        },
    },
}

_TYPE_NAMES = {
    "integer": "an integer",
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "number": "a number",
    "null": "empty",
}


def _type_name(t: Any) -> str:
    if isinstance(t, list):
        return " or ".join(_TYPE_NAMES.get(x, str(x)) for x in t)
    return _TYPE_NAMES.get(t, str(t))


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return "a mapping" if isinstance(v, dict) else "a list"
    return repr(v) if isinstance(v, str) else str(v)


def humanise(err: jsonschema.ValidationError) -> Iterator[Tuple[Tuple[str, ...], str]]:
    """(path, message) pairs in words a user acts on, for one schema error."""
    path = tuple(str(p) for p in err.absolute_path)
    v = err.validator
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed), key=str)
        for key in extra:
            hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
            if isinstance(key, bool):  # YAML 1.1: an unquoted on/off/yes/no key is a boolean
                yield (
                    path + (str(key),),
                    (
                        f"a key YAML reads as {str(key).lower()} (on, off, yes or no unquoted)"
                        f"{hint}; quote it, or fix its spelling"
                    ),
                )
            else:
                yield path + (str(key),), f"unknown key{hint}; remove it or fix its spelling"
    elif v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        yield path, f"missing required key '{missing}'"
    elif v == "type":
        yield path, f"must be {_type_name(err.validator_value)}, got {_show(err.instance)}"
    elif v == "enum":
        choices = ", ".join(_show(c) for c in err.validator_value)
        yield path, f"must be one of {choices}, got {_show(err.instance)}"
    elif v == "const":
        yield path, f"must be {_show(err.validator_value)}, got {_show(err.instance)}"
    elif v in ("minimum", "exclusiveMinimum", "maximum", "maxLength"):
        word = {
            "minimum": "at least",
            "exclusiveMinimum": "more than",
            "maximum": "at most",
            "maxLength": "at most this many characters:",
        }[v]
        yield path, f"must be {word} {err.validator_value}, got {_show(err.instance)}"
    elif v == "minProperties":
        yield path, "must declare at least one entry"
    elif v == "oneOf" and not path:
        yield ("stack",), "give stack (one stack file) or stacks (a list of them): one of the two"
    elif v in ("minItems", "maxItems"):
        word = "at least" if v == "minItems" else "at most"
        yield path, f"must list {word} {err.validator_value} entries, got {len(err.instance)}"
    elif v == "pattern":
        yield path, f"must be a URL path starting with '/' (no spaces or quotes), got {_show(err.instance)}"
    else:
        yield path, err.message


def _is_integer(checker, instance) -> bool:
    """1.0 and true are not integers here (JSON Schema says 1.0 is; a count of 1.0 is a mistake)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def validate(data: Any) -> Iterator[Tuple[Tuple[str, ...], str]]:
    validator = Validator(SCENARIO_SCHEMA)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        yield from humanise(err)
