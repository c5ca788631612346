"""Checks from outside the swarm, as a user of the lab meets it: a drill's flow through the
published endpoint (web -> db and redis), a lesson's published port and HTTP request."""

from __future__ import annotations

from typing import List

from ..observe.http import http_get
from ..observe.netns import tcp_open
from ..observe.topology import Service
from ..providers.base import Host
from .base import PORT, STR, Check, Seen
from .evidence import Evidence


class Answers(Check):
    """The published endpoint answers: the full flow (web -> db and redis) through every
    node that should serve it (or `via` one, or `any` one of them), or a plain GET of
    `path` via that node."""

    kind = "answers"
    params = {
        "via": STR,
        "path": {"type": "string", "pattern": "^/[A-Za-z0-9._~/?=&%-]{0,200}$"},
        "ok": {"type": "boolean"},
        "any": {"type": "boolean"},
    }
    on = "flow"

    @property
    def active(self):
        return "path" in self.p

    def name(self):
        via = f" via {self.p['via']}" if "via" in self.p else " via some node" if self.p.get("any") else ""
        what = "the flow" if "path" not in self.p else f"GET {self.p['path']}"
        return what + via + (" fails" if self.p.get("ok") is False else " answers")

    def expected(self):
        if self.p.get("ok") is False:
            return "no answer"
        return "HTTP 200 from " + ("at least one endpoint" if self.p.get("any") else "every endpoint asked")

    def judge(self, snap) -> Seen:
        want = self.p.get("ok", True)
        if self.ctx.endpoint is None:
            return False, "the lab publishes no HTTP endpoint"
        if "path" in self.p:
            host = self.ctx.hosts[self.p.get("via") or next(iter(sorted(self.ctx.hosts)))]
            try:
                status, _, raw = http_get(f"http://{host.address}:{self.ctx.endpoint.port}{self.p['path']}", timeout=5)
                seen, good = f"via {host.name}: HTTP {status}", status == 200
            except OSError as exc:
                seen, good = f"via {host.name}: no answer ({getattr(exc, 'reason', exc)})", False
            return good == want, seen
        flow = {n: v for n, v in snap.flow.items() if n == self.p.get("via", n)}
        oks = [snap.flow_ok[n] for n in flow]
        seen = "; ".join(f"via {n}: {v}" for n, v in sorted(flow.items())) or "no endpoint to ask"
        good = any(oks) if self.p.get("any") else bool(oks) and all(oks)
        return good if want else not any(oks), seen


def _serving(ev: Evidence, svc: Service, port: int) -> List[Host]:
    """The nodes where a published port must answer: every node with the routing mesh,
    the nodes running its tasks with a host-mode port."""
    spec = next((x for x in svc.published if x["published"] == port), None)
    if spec is None or spec["mode"] == "host":
        nodes = {t.node for t in svc.tasks}
        return [h for h in ev.handle.running if h.name in nodes]
    return list(ev.handle.running)


class Published(Check):
    """A service's port as someone outside the swarm sees it: from the controller, on each
    node that must serve it."""

    kind = "published"
    params = {"service": STR, "port": PORT, "open": {"type": "boolean"}}
    required = ("service", "port")

    def expected(self):
        answers = "answers" if self.p.get("open", True) else "does not answer"
        return f"port {self.p['port']} of {self.p['service']} {answers} from outside"

    def judge(self, ev: Evidence) -> Seen:
        p = self.p
        svc = ev.service(p["service"])
        hosts = _serving(ev, svc, p["port"]) if svc and svc.tasks else list(ev.handle.running)
        seen = {h.name: tcp_open(h.address, p["port"]) for h in hosts}
        want = p.get("open", True)
        passed = bool(seen) and all(o == want for o in seen.values())
        published = ", ".join(f"{x['published']}->{x['target']}" for x in svc.published) if svc else ""
        return passed, (
            ", ".join(f"{n}:{p['port']} {'open' if o else 'closed'}" for n, o in seen.items())
            + f" ({p['service']} publishes {published or 'nothing'})"
        )


class Http(Check):
    """An HTTP GET from the controller through every node serving the published port."""

    kind = "http"
    params = {
        "service": STR,
        "port": PORT,
        "path": {"type": "string", "pattern": "^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
    }
    required = ("service", "port")

    def expected(self):
        p = self.p
        return f"GET {p.get('path', '/')} on {p['service']}'s port {p['port']} answers {p.get('status', 200)}"

    def judge(self, ev: Evidence) -> Seen:
        svc, why = ev.running(self.p["service"])
        if svc is None:
            return False, why
        p, seen = self.p, {}
        for h in _serving(ev, svc, p["port"]):
            try:
                status, _, raw = http_get(f"http://{h.address}:{p['port']}{p.get('path', '/')}", timeout=5)
            except OSError as exc:  # refused, reset, timed out: no HTTP answer at all
                status, raw = 0, str(getattr(exc, "reason", exc))
            said = " ".join(raw.split())[:100]
            seen[h.name] = f"{status or 'no answer'}" + (f" {said}" if status != p.get("status", 200) else "")
        passed = bool(seen) and all(v == str(p.get("status", 200)) for v in seen.values())
        return passed, "; ".join(f"via {n}: {v}" for n, v in seen.items()) or "served by no node"
