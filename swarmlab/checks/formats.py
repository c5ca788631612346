"""How the files people write name the checks. Drills and lessons keep the names and
parameters their files always had; each name stands for one kind of the registry, and
where a file's parameter differs from the core's vocabulary it is an Alias (a lesson's
`node: {name: node-2}` is the core's {node: node-2}; its `expect: blocked` is open: false)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Type

from .base import Check, Problems


@dataclass(frozen=True)
class Alias:
    key: str  # the core's parameter
    schema: dict  # the value as the file writes it
    values: Optional[Dict[Any, Any]] = None  # the file's value -> the core's (None: the same)
    required: bool = False  # the file must give it (where the core has a default)


@dataclass(frozen=True)
class Format:
    """One kind of file's names for checks: name -> kind, and its aliases by name."""

    registry: Dict[str, Type[Check]]
    names: Dict[str, str]
    aliases: Dict[str, Dict[str, Alias]] = field(default_factory=dict)
    extra: Dict[str, dict] = field(default_factory=dict)  # what this format adds to every kind

    def kind(self, name: str) -> Type[Check]:
        return self.registry[self.names[name]]

    def schema(self, name: str) -> dict:
        cls, aliases = self.kind(name), self.aliases.get(name, {})
        props, required = {**cls.params, **self.extra}, list(cls.required)
        for written, alias in aliases.items():
            props.pop(alias.key, None)
            props[written] = alias.schema
            required = [written if r == alias.key else r for r in required]
            required += [written] if alias.required and written not in required else []
        return {
            "type": "object" if required else ["object", "null"],
            "additionalProperties": False,
            "required": required,
            "properties": props,
        }

    def schemas(self) -> Dict[str, dict]:
        return {name: self.schema(name) for name in self.names}

    def core(self, name: str, params: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """The parameters as written, in the core's vocabulary."""
        out = dict(params or {})
        for written, alias in self.aliases.get(name, {}).items():
            if written in out:
                value = out.pop(written)
                out[alias.key] = alias.values.get(value, value) if alias.values else value
        return out

    def problems(self, name: str, params: Optional[Dict[str, Any]]) -> Problems:
        """The kind's own rules, each problem at the path the file wrote."""
        back = {a.key: written for written, a in self.aliases.get(name, {}).items()}
        for path, msg in self.kind(name).problems(self.core(name, params)):
            yield tuple(back.get(p, p) for p in path), msg

    def make(self, name: str, params: Optional[Dict[str, Any]], ctx: Any = None, fault: Any = None) -> Check:
        return self.kind(name)(self.core(name, params), ctx, fault)
