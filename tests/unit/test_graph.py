"""The graph's text from a lab's snapshot (the data `status --json` carries): every host,
task and overlay named, what cannot be drawn (an empty host) still shown, and text that
would break DOT or mermaid quoted."""
import shutil

from swarmlab.graph import render

STATUS = {
    "lab": "demo", "provider": "dind",
    "nodes": [{"name": "node-1", "role": "manager", "manager": "leader", "address": "10.96.0.11", "swarm": "ready",
               "availability": "active"},
              {"name": "node-2", "role": "worker", "manager": "", "address": "10.96.0.12", "swarm": "down",
               "availability": "active"}],
    "networks": [{"name": "backend", "subnet": "10.96.130.0/24", "encrypted": False, "vxlan_id": "4098",
                  "why": 'encrypted: auto, left plain: no "ESP" <here>', "requested": "auto", "driver": "overlay",
                  "attachable": False}],
    "services": [{"name": "app_web", "networks": ["backend", "ingress"], "ports": ["8080->8000/tcp (host)"],
                  "tasks": [{"task": "app_web.1", "node": "node-1", "state": "Running"}]}],
}


def test_dot_names_everything_and_quotes_what_it_must():
    dot = render(STATUS, "dot")
    for name in ("node-1", "node-2", "app_web.1", "backend", "VXLAN 4098, 10.96.130.0/24", "8080->8000/tcp"):
        assert name in dot, name
    assert 'no \\"ESP\\" <here>' in dot                  # a quote in a reason cannot end the label
    assert '"empty:node-2" [shape=plaintext, label="no task"]' in dot   # a host with no task is drawn
    assert '"app_web.1" -- "net:backend"' in dot and "ingress" not in dot   # only the lab's overlays


def test_mermaid_names_everything_with_entity_codes():
    text = render(STATUS, "mermaid")
    assert text.startswith("flowchart LR") and "app_web.1" in text and "node-2" in text
    assert "#quot;ESP#quot; #60;here#62;" in text and '"ESP"' not in text
    assert "task_app_web_1 --- net_backend" in text and "outside -. " in text


def test_svg_and_a_self_contained_page():
    assert shutil.which("dot"), "scripts/setup.sh installs graphviz"
    svg = render(STATUS, "svg")
    assert svg.startswith("<svg") and "app_web.1" in svg
    page = render(STATUS, "html")
    assert page.startswith("<!doctype html>") and "<svg" in page and '<table id="nodes">' in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
