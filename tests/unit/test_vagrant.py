"""The Vagrant provider's pure parts: lab.yaml (and its environment overrides), parsing
`vagrant ssh-config` as recorded, and the inventory made from it — SSH and Swarm on the
private network, never the NAT interface or a forwarded port, host keys pinned."""
import base64
from pathlib import Path

import pytest
import yaml

from swarmlab.config.inventory import load_inventory
from swarmlab.errors import ConfigError
from swarmlab.providers.vagrant import VAGRANT_DIR, inventory_doc, load_config, parse_ssh_config

DATA = Path(__file__).resolve().parents[1] / "data" / "vagrant"


def _key(n):  # a well-formed ed25519 public key line
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([n]) * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def test_the_shipped_lab_yaml_and_its_overrides():
    cfg = load_config(VAGRANT_DIR, {})
    assert (cfg.count, cfg.managers, cfg.subnet) == (3, 1, "192.168.56")
    assert [cfg.ip(n) for n in cfg.names()] == ["192.168.56.11", "192.168.56.12", "192.168.56.13"]
    assert [cfg.role(n) for n in cfg.names()] == ["manager", "worker", "worker"]
    cfg = load_config(VAGRANT_DIR, {"SWARMLAB_VAGRANT_COUNT": "2", "SWARMLAB_VAGRANT_SUBNET": "10.77.0"})
    assert cfg.names() == ["swarm-1", "swarm-2"] and cfg.ip("swarm-2") == "10.77.0.12"
    with pytest.raises(ConfigError) as err:
        load_config(VAGRANT_DIR, {"SWARMLAB_VAGRANT_COUNT": "lots", "SWARMLAB_VAGRANT_MANAGERS": "2"})
    assert "count" in "\n".join(err.value.lines())
    with pytest.raises(ConfigError) as err:
        load_config(VAGRANT_DIR, {"SWARMLAB_VAGRANT_MANAGERS": "2"})
    assert "managers: must be odd" in "\n".join(err.value.lines())


def test_ssh_config_as_vagrant_prints_it():
    hosts = parse_ssh_config((DATA / "ssh-config-virtualbox.txt").read_text())
    assert sorted(hosts) == ["swarm-1", "swarm-2", "swarm-3"]
    one = hosts["swarm-1"]
    assert (one["hostname"], one["port"], one["user"]) == ("127.0.0.1", "2222", "vagrant")
    # quoted path with a space kept whole; of two IdentityFile lines the first wins, as in ssh
    assert one["identityfile"] == "/home/ops/My Labs/swarmlab/vagrant/.vagrant/machines/swarm-1/virtualbox/private_key"
    assert one["stricthostkeychecking"] == "no"     # what Vagrant does, and why we pin keys ourselves


@pytest.mark.parametrize("recorded", sorted(DATA.glob("ssh-config-*.txt")), ids=lambda p: p.name)
def test_inventory_from_ssh_config_uses_the_private_network_and_pins_keys(recorded, tmp_path):
    # ssh-config-libvirt-2vms.txt was recorded from the 2-VM lab of the opt-in test
    two = "2vms" in recorded.name
    cfg = load_config(VAGRANT_DIR, {"SWARMLAB_VAGRANT_LAB": str(DATA / "two-vms.yaml")} if two else {})
    ssh = parse_ssh_config(recorded.read_text())
    keys = {n: _key(i) for i, n in enumerate(cfg.names(), 1)}
    doc = inventory_doc(cfg, ssh, keys)
    for name, h in doc["hosts"].items():
        assert h["address"] == h["advertise_addr"] == h["data_path_addr"] == cfg.ip(name)
        assert h["port"] == 22 and h["user"] == "vagrant" and h["host_key"] == keys[name]
        assert not h["address"].startswith(("127.", "10.0.2.", "192.168.121."))   # forwarded, NAT, management
        assert Path(h["key_file"]).name == "private_key" and name in h["key_file"]
    assert doc["hosts"]["swarm-2" if two else "swarm-3"]["labels"] == {"tier": "data"}
    # the document is a valid inventory (key files made where it points)
    for h in doc["hosts"].values():
        key = tmp_path / Path(h["key_file"]).name
        key.write_text("")
        h["key_file"] = str(key)
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(doc))
    inv = load_inventory(path)
    assert [(h.name, h.role) for h in inv.hosts] == [(n, cfg.role(n)) for n in cfg.names()]


def test_a_vm_missing_from_ssh_config_is_named():
    from swarmlab.errors import SwarmlabError

    cfg = load_config(VAGRANT_DIR, {})
    ssh = parse_ssh_config((DATA / "ssh-config-virtualbox.txt").read_text())
    del ssh["swarm-2"]
    with pytest.raises(SwarmlabError, match="no entry for swarm-2"):
        inventory_doc(cfg, ssh, {n: _key(1) for n in cfg.names()})


def test_the_kvm_boot_test_runs_once_per_set_of_vms(tmp_path, monkeypatch):
    """The first `up` decides kvm or qemu with a boot test and records it; an `up` on the
    same VMs keeps that driver without a new test; after `down` (state gone) it tests again.
    SWARMLAB_VAGRANT_DRIVER always wins."""
    import swarmlab.providers.vagrant as V

    tests = []
    monkeypatch.setattr(V, "choose_driver", lambda kernel, say, count: tests.append(count) or "qemu")
    said = []
    p = V.VagrantProvider(folder=tmp_path)
    p.env.pop("SWARMLAB_VAGRANT_DRIVER", None)
    assert p._driver(None, "lab1", said.append, 2) == "qemu" and tests == [2]
    (p.state_dir / "lab").write_text("lab1")
    assert p._driver(None, "lab1", said.append, 2) == "qemu" and tests == [2]
    assert said == ["driver qemu, as when these VMs were made (no KVM boot test)"]
    assert p._driver(None, "other", said.append, 2) == "qemu" and tests == [2, 2]   # not these VMs' lab
    p.env["SWARMLAB_VAGRANT_DRIVER"] = "kvm"
    assert p._driver(None, "lab1", said.append, 2) == "kvm" and tests == [2, 2]
    assert (p.state_dir / "driver").read_text() == "kvm"


def test_the_host_key_a_vm_said_on_its_console_is_the_last_one_it_said():
    from swarmlab.providers.vagrant import said_key

    old, new = (f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{c * 43}" for c in "oN")
    boots = (f"[    0.000000] Linux version 6.1\r\nswarmlab-host-key {old}\r\nlogin: \r\n"
             f"[    0.000000] Linux version 6.1\r\n[  OK  ] Sta[   11.917020] swarmlab-host-key {new}\r\n"
             "rted ssh\r\n")
    assert said_key(boots) == new     # through the kernel's log, after another writer's half line
    assert said_key(f"swarmlab-host-key {old}\n") == old
    # a line that only contains the words, another kind of key, or a key cut short (kernel
    # messages landing in a line written to the tty) is not the VM saying its key
    assert said_key(f"$ echo swarmlab-host-key {new}\nswarmlab-host-key ssh-rsa AAAAB3Nza\n") is None
    assert said_key(f"swarmlab-host-key {new[:40]}[   12.1] virtio_net: eth1\r\n{new[40:]}\r\n") is None
    assert said_key("") is None
