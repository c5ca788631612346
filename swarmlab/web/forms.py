"""What a page may ask to run, read from its JSON body and checked where it enters: a
drill by its id with node names as its parameters (the live page's and the room board's)."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from .. import grammar

MAX_PARAMS = 8


def drill_asked(body: Dict[str, Any]) -> Tuple[str, Dict[str, str]]:
    """(drill id, params), or ValueError saying which value is wrong."""
    ref, params = str(body.get("drill", ""))[:100], body.get("params") or {}
    problem = grammar.DRILL.problem(ref)
    if problem:
        raise ValueError(f"drill: {problem}")
    if not isinstance(params, dict) or len(params) > MAX_PARAMS:
        raise ValueError(f"params: an object of at most {MAX_PARAMS} node names is expected")
    for key, value in params.items():
        bad = grammar.PARAM.problem(str(key)) or grammar.NODE.problem(str(value))
        if bad:
            raise ValueError(f"params.{str(key)[:24]}: {bad}")
    return ref, {str(k): str(v) for k, v in params.items()}
