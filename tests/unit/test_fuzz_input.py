"""Property-based (hypothesis): the valid files, mutated at random (types, keys, unicode,
sizes, aliases, raw bytes), give either a loaded file or the tool's own bad-input error
(ConfigError, exit 2), never anything else, each in under 2 s (issue #12)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarmlab.config import load_scenario
from swarmlab.config.inventory import load_inventory
from swarmlab.errors import EXIT_CONFIG, ConfigError
from swarmlab.providers.vagrant_config import load_config

from .test_config import ROOT

TESTDATA = ROOT / "swarmlab" / "config" / "testdata"
SEEDS = {
    "scenario": [ROOT / "scenarios" / "default.yaml", TESTDATA / "valid-full.yaml"],
    "inventory": [TESTDATA / "inventory" / "valid-native.yaml", TESTDATA / "inventory" / "valid-ansible.yaml"],
    "stack": [ROOT / "scenarios" / "stacks" / "web-db-redis.yml"],
    "vagrant": [ROOT / "vagrant" / "lab.yaml"],
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 10).map(float), st.text(max_size=40),
    st.sampled_from(["$(touch /tmp/swarmlab-fuzz)", "a;b", "-oProxyCommand=x", "lab\n", "x" * 5000, "ingress",
                     "0.0.0.0/0", "127.0.0.0/16", "../../etc/passwd", "/dev/zero", "\u202e\u0000\ufeff", "SWMTKN-1-x"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@st.composite
def mutated(draw, kind):
    seed = draw(st.sampled_from(SEEDS[kind]))
    doc = yaml.safe_load(seed.read_text())
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        leaves = [p for p in paths if not isinstance(_get(doc, p), (dict, list))]
        path = draw(st.sampled_from(leaves if leaves and draw(st.integers(0, 2)) else paths))
        how = draw(st.sampled_from(["value", "retype", "retype", "key", "delete"]))
        if how == "retype":   # the same value in another type or shape: 1 -> 1.0, "a" -> "a\n", ...
            doc = _set(doc, path, draw(st.sampled_from(_neighbours(_get(doc, path)))))
        elif how == "value":
            doc = _set(doc, path, draw(values))
        elif how == "key" and isinstance(_get(doc, path), dict):
            _get(doc, path)[draw(st.text(max_size=20))] = draw(values)
        elif how == "delete" and path and isinstance(_get(doc, path[:-1]), dict):
            del _get(doc, path[:-1])[path[-1]]
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    tail = draw(st.sampled_from(["", "", "x: &a [1,2]\ny: [*a, *a, *a]\n", "dup: 1\ndup: 2\n", "\t- tab\n",
                                 "z: " + "[" * 100 + "]" * 100 + "\n"]))
    raw = (text + tail).encode()
    if draw(st.booleans()):   # a few raw bytes somewhere: encodings, NULs, cut-off text
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(max_size=6)) + raw[at:]
    return seed, raw


def _neighbours(v) -> list:
    if isinstance(v, bool):
        return ["true", 1, None, [v]]
    if isinstance(v, int):
        return [float(v), str(v), v * 10 ** 20, -v, True, [v], v + 1, 0]
    if isinstance(v, str):
        return [v + "\n", v + ";touch /tmp/swarmlab-fuzz", v * 500, v.upper(), "", [v], {v: v}, 7]
    if isinstance(v, list):
        return [{"a": v}, ",".join(map(str, v)), v * 50, [], None]
    if isinstance(v, dict):
        return [list(v), str(v), {}, None, {**v, **{k + "_": 1 for k in list(v)[:2]}}]
    return ["x", 1, [], {}]


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _load(kind: str, seed: Path, path: Path, tmp: Path) -> None:
    if kind == "scenario":
        load_scenario(path)
    elif kind == "stack":
        scenario = tmp / "s.yaml"
        scenario.write_text(f"apiVersion: swarmlab/v1\nkind: Scenario\nnodes: {{managers: 1, workers: 2, labels: "
                            f"{{node-1: {{tier: app}}, node-2: {{tier: app}}, node-3: {{tier: data}}}}}}\n"
                            f"networks: {{frontend: {{}}, backend: {{}}}}\nstack: {{file: {path.name}}}\n"
                            "wait: {http: null}\n")
        load_scenario(scenario)
    elif kind == "inventory":
        load_inventory(path)
    else:
        load_config(tmp, {"SWARMLAB_VAGRANT_LAB": str(path)})


MARKER = Path("/tmp/swarmlab-fuzz")   # what the hostile values would create, run by a shell


@pytest.fixture(autouse=True)
def no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a fuzzed value reached a shell"


def _check(kind: str, case, tmp_path_factory) -> None:
    seed, raw = case
    tmp = tmp_path_factory.mktemp(kind)
    path = tmp / seed.name
    path.write_bytes(raw)
    for extra in ("id_ed25519", "known_hosts"):   # what the inventories name beside them
        src = seed.parent / extra
        if src.exists():
            (tmp / extra).write_bytes(src.read_bytes())
    started = time.process_time()   # CPU: a busy machine stretches the clock, not the work
    try:
        _load(kind, seed, path, tmp)
    except ConfigError as exc:
        assert exc.exit_code == EXIT_CONFIG
        assert all(str(p).startswith(str(tmp)) for p in exc.problems), exc.lines()
    assert time.process_time() - started < 2.0


FUZZ = settings(max_examples=int(os.environ.get("SWARMLAB_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_files_give_only_our_bad_input_error(kind, tmp_path_factory):
    @FUZZ
    @given(mutated(kind))
    def run(case):
        _check(kind, case, tmp_path_factory)

    run()


@pytest.mark.parametrize("kind, seed", [(k, s) for k, seeds in sorted(SEEDS.items()) for s in seeds],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_value_in_every_other_type(kind, seed, tmp_path_factory):
    """Not left to chance: each value of each valid file, in turn, as each of its neighbours."""
    doc = yaml.safe_load(seed.read_text())
    for path in list(_paths(doc)):
        for other in _neighbours(_get(doc, path)):
            changed = _set(yaml.safe_load(seed.read_text()), path, other)
            raw = yaml.safe_dump(changed, allow_unicode=True, sort_keys=False).encode()
            _check(kind, (seed, raw), tmp_path_factory)
