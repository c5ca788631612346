"""Inventory loading, table-driven by swarmlab/config/testdata/inventory: every valid-*.yaml
loads (swarmlab's shape and Ansible's), every invalid-*.yaml fails with exactly the
problems its `# expect:` lines name, with file and line."""
from pathlib import Path

import pytest

from swarmlab.config.inventory import load_inventory
from swarmlab.errors import ConfigError

from .test_config import assert_expected_problems

DATA = Path(__file__).resolve().parents[2] / "swarmlab" / "config" / "testdata" / "inventory"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(DATA.glob("valid-*.yaml")), ids=lambda p: p.name)
def test_valid_inventories_load(path):
    inv = load_inventory(path)
    assert [h.role for h in inv.hosts] == ["manager", "worker", "worker"]
    assert inv.shape == ("ansible" if "ansible" in path.name else "swarmlab")


@pytest.mark.parametrize("path", sorted(DATA.glob("invalid-*.yaml")), ids=lambda p: p.name)
def test_invalid_inventories_report_every_problem(path):
    assert_expected_problems(path, load_inventory)


def test_both_shapes_give_the_same_hosts():
    native = load_inventory(ROOT / "inventories" / "example.yaml")
    ansible = load_inventory(ROOT / "inventories" / "ansible-example.yaml")
    n = {h.name: h for h in native.hosts}
    a = {h.name: h for h in ansible.hosts}
    assert sorted(n) == sorted(a) == ["swarm-1", "swarm-2", "swarm-3"]
    for name in n:
        assert (n[name].address, n[name].role, n[name].port, n[name].labels) == \
               (a[name].address, a[name].role, a[name].port, a[name].labels)
    assert n["swarm-3"].user == "ops" and a["swarm-3"].data_path_addr == "198.51.100.13"
    assert n["swarm-1"].host_key.startswith("ssh-ed25519 ") and ansible.known_hosts == "known_hosts"


def test_trust_on_first_use_only_when_asked(tmp_path):
    f = tmp_path / "inv.yaml"
    (tmp_path / "id").write_text("a key\n")
    f.write_text("apiVersion: swarmlab/v1\nkind: Inventory\nhosts:\n  a: {address: 10.0.0.1, role: manager, key_file: id}\n")
    with pytest.raises(ConfigError, match="1 problem"):
        load_inventory(f)
    assert load_inventory(f, trust_on_first_use=True).hosts[0].host_key is None


def test_an_inventory_of_engines_needs_no_role_and_is_checked_as_any_other(tmp_path):
    f = tmp_path / "engines.yaml"
    (tmp_path / "id").write_text("a key\n")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0IDGs1ZyiEn2LMX45+LHv5VjMXwEm84mZDk48QprVR"
    f.write_text(f"apiVersion: swarmlab/v1\nkind: Inventory\ndefaults: {{key_file: id}}\nhosts:\n"
                 f"  far-1: {{address: 10.0.0.1, host_key: {key}}}\n  far-2: {{address: 10.0.0.2, host_key: {key}}}\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(f)                                  # a swarm's nodes each need their role
    assert "missing required key 'role'" in str(info.value.problems[0])
    assert [h.name for h in load_inventory(f, engines=True).hosts] == ["far-1", "far-2"]
    f.write_text(f.read_text().replace("10.0.0.2", "10.0.0.1"))
    with pytest.raises(ConfigError) as info:
        load_inventory(f, engines=True)                    # the other checks still hold
    assert "same address and port as far-1" in str(info.value.problems[0])


def test_not_a_mapping(tmp_path):
    f = tmp_path / "inv.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(f)
    assert "an inventory is a mapping" in str(info.value.problems[0])


def test_an_inventory_gives_the_scenario_its_nodes_and_the_stack_is_checked_against_them(tmp_path):
    from swarmlab.config import load_scenario
    from swarmlab.config.inventory import apply_inventory

    scenario = load_scenario(ROOT / "scenarios" / "default.yaml")
    inv = load_inventory(ROOT / "inventories" / "example.yaml")
    lab = apply_inventory(scenario, inv)
    assert [(n.name, n.role, dict(n.labels)) for n in lab.nodes] == [
        ("swarm-1", "manager", {"tier": "app"}), ("swarm-2", "worker", {"tier": "app"}),
        ("swarm-3", "worker", {"tier": "data"})]
    assert lab.stack_name == scenario.stack_name and lab.networks == scenario.networks
    # no host labelled tier=data: db and redis could run nowhere, and the error names the inventory
    text = (ROOT / "inventories" / "example.yaml").read_text().replace("{tier: data}", "{tier: app}")
    (tmp_path / "id_ed25519").write_text("")
    bad = tmp_path / "no-data.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as err:
        apply_inventory(scenario, load_inventory(bad))
    lines = "\n".join(err.value.lines())
    assert "services.db.deploy.placement.constraints" in lines and str(bad) in lines
    assert "services.web" not in lines


def test_a_registry_short_or_long(tmp_path):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJpwkBVLGeKBRRoBRyGRIRBelfYMK+pkw0ZImNDhqnIn"
    (tmp_path / "id").write_text("a key\n")
    head = ("apiVersion: swarmlab/v1\nkind: Inventory\ndefaults: {key_file: id}\n"
            f"hosts: {{a: {{address: 10.0.0.1, role: manager, host_key: {key}}}}}\n")
    p = tmp_path / "inv.yaml"
    p.write_text(head + "registry: registry.example.com:5000\n")
    reg = load_inventory(p).registry
    assert (reg.address, reg.push) == ("registry.example.com:5000", "registry.example.com:5000")
    assert reg.repo("swarmlab.local/web:bookworm", reg.address) == "registry.example.com:5000/swarmlab/web"
    p.write_text(head + "registry: {address: 10.0.0.9:5000, push: '127.0.0.1:5001'}\n")
    reg = load_inventory(p).registry
    assert (reg.address, reg.push) == ("10.0.0.9:5000", "127.0.0.1:5001")
    assert reg.repo("swarmlab.local/db:bookworm", reg.push) == "127.0.0.1:5001/swarmlab/db"
    p.write_text(head)
    assert load_inventory(p).registry is None
    a = tmp_path / "ansible.yaml"
    a.write_text("all:\n  vars: {swarmlab_registry: reg.lan, ansible_ssh_private_key_file: id}\n  children:\n    managers:\n"
                 f"      hosts: {{a: {{ansible_host: 10.0.0.1, swarmlab_host_key: '{key}'}}}}\n")
    assert load_inventory(a).registry.address == "reg.lan"


def test_a_key_file_under_home_is_found_with_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "home" / ".ssh" / "lab_key").write_text("a key\n")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJpwkBVLGeKBRRoBRyGRIRBelfYMK+pkw0ZImNDhqnIn"
    f = tmp_path / "inv" / "inv.yaml"
    f.parent.mkdir()
    f.write_text("apiVersion: swarmlab/v1\nkind: Inventory\ndefaults: {key_file: ~/.ssh/lab_key}\n"
                 f"hosts: {{a: {{address: 10.0.0.1, role: manager, host_key: {key}}}}}\n")
    inv = load_inventory(f)
    from swarmlab.providers.ssh import SSHProvider

    assert SSHProvider(inv).transports["a"].key_file == str(tmp_path / "home" / ".ssh" / "lab_key")


def test_a_private_key_others_can_read_is_refused_as_ssh_refuses_it(tmp_path):
    key = tmp_path / "id_lab"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n")
    (tmp_path / "inv.yaml").write_text(
        "apiVersion: swarmlab/v1\nkind: Inventory\nhosts:\n  alpha: {address: 127.0.0.2, role: manager, "
        "key_file: id_lab}\n")
    key.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_inventory(tmp_path / "inv.yaml", trust_on_first_use=True)
    assert [p.path for p in info.value.problems] == ["hosts.alpha.key_file"]
    assert "mode 0644" in info.value.problems[0].message and "chmod 600 id_lab" in info.value.problems[0].message
    key.chmod(0o600)
    assert load_inventory(tmp_path / "inv.yaml", trust_on_first_use=True).hosts[0].key_file == "id_lab"
