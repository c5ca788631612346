"""Scenario loading, table-driven by swarmlab/config/testdata: every valid-*.yaml loads,
every invalid-*.yaml fails with exactly the problems its `# expect:` lines name."""
from pathlib import Path

import pytest

from swarmlab.config import load_scenario
from swarmlab.errors import EXIT_CONFIG, ConfigError

DATA = Path(__file__).resolve().parents[2] / "swarmlab" / "config" / "testdata"
ROOT = Path(__file__).resolve().parents[2]


def expectations(path: Path) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
            if line.startswith("# expect:")]


@pytest.mark.parametrize("path", sorted(DATA.glob("valid-*.yaml")), ids=lambda p: p.name)
def test_valid_files_load(path):
    scenario = load_scenario(path)
    assert scenario.managers and len(scenario.managers) % 2 == 1
    assert scenario.stack["services"]


def assert_expected_problems(path: Path, load) -> None:
    """load(path) fails with exactly the problems path's `# expect:` lines name, each naming its file."""
    wanted = expectations(path)
    assert wanted, f"{path.name} has no '# expect:' lines"
    with pytest.raises(ConfigError) as info:
        load(path)
    got = [str(p) for p in info.value.problems]
    assert info.value.exit_code == EXIT_CONFIG
    assert len(got) == len(wanted), "\n".join(got)
    for w in wanted:
        assert any(w in g for g in got), f"no problem contains {w!r}:\n" + "\n".join(got)
    for g in got:  # every problem names its file
        assert g.startswith(str(path.parent)), g


@pytest.mark.parametrize("path", sorted(DATA.glob("invalid-*.yaml")), ids=lambda p: p.name)
def test_invalid_files_report_every_problem(path):
    assert_expected_problems(path, load_scenario)


def test_default_scenario_is_valid():
    s = load_scenario(ROOT / "scenarios" / "default.yaml")
    assert [n.role for n in s.nodes] == ["manager", "worker", "worker"]
    assert {n.name: n.encrypted for n in s.networks} == {"frontend": "false", "backend": "auto"}
    assert set(s.stack["services"]) == {"web", "db", "redis"}
    assert s.stack["services"]["web"]["deploy"]["replicas"] == 2


def test_full_file_values():
    s = load_scenario(DATA / "valid-full.yaml")
    assert s.name == "full-lab" and s.stack_name == "shop" and s.pool == "10.120.0.0/16"
    assert [n.role for n in s.nodes].count("manager") == 3
    assert dict(s.nodes[3].labels) == {"tier": "app", "ssd": "true"}
    assert s.network("front").encrypted == "auto" and s.network("front").attachable is False
    assert s.wait.timeout == 60 and s.wait.http_path == "/"


def test_flags_override_and_are_named_in_errors():
    s = load_scenario(ROOT / "scenarios" / "default.yaml", name="other", nodes=5, managers=3)
    assert s.name == "other" and len(s.nodes) == 5 and len(s.managers) == 3
    assert len(load_scenario(ROOT / "scenarios" / "default.yaml", managers=2).managers) == 2   # Docker takes it
    with pytest.raises(ConfigError) as info:
        load_scenario(ROOT / "scenarios" / "default.yaml", managers=0)
    assert "nodes.managers: must be at least 1, got 0 (set by --managers)" in "\n".join(info.value.lines())
    with pytest.raises(ConfigError) as info:
        load_scenario(ROOT / "scenarios" / "default.yaml", managers=2, name="no_good")
    text = "\n".join(info.value.lines())
    assert "managers" not in text       # two managers are what Docker takes: only the name is wrong
    assert "'no_good' is not a DNS label" in text and "(set by --name)" in text


def test_all_problems_at_once_not_the_first():
    with pytest.raises(ConfigError) as info:
        load_scenario(DATA / "invalid-topology.yaml")
    assert len(info.value.problems) == 3
    assert info.value.lines()[0] == "3 problems in the lab definition; nothing was created"


def test_missing_scenario_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert str(info.value.problems[0]) == f"{tmp_path / 'nope.yaml'}: scenario file not found"


def test_several_stacks_each_deployed_as_its_own():
    s = load_scenario(DATA / "valid-stacks.yaml")
    assert s.stack_name == "shop" and [p.name for p in s.stacks] == ["shop", "tools"]
    assert sorted(s.services) == ["shop_cache", "shop_web", "tools_web"]
    assert s.stacks[1].file == DATA / "stacks" / "tools.yml"
