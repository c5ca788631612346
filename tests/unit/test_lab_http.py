"""The controller's requests to lab services (verify, up's wait, drills, lessons): a lab
service may answer anything, and the controller must not follow it out (issue #30).
Real HTTP servers on 127.0.0.1 stand in for a hostile service and for where it points."""
from __future__ import annotations

import http.server
import threading

import pytest

from swarmlab.observe import http as wait


class _Recorder:
    """A loopback server that counts the requests it gets and answers as told."""

    def __init__(self, answer):
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                answer(self)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    made = []

    def make(answer):
        s = _Recorder(answer)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def _ok(h):
    body = b'{"served_by": "web.1"}'
    h.send_response(200)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def test_a_redirect_is_the_answer_never_followed(servers):
    elsewhere = servers(_ok)

    def redirect(h):
        h.send_response(302)
        h.send_header("Location", elsewhere.url + "/secret")
        h.send_header("Content-Length", "0")
        h.end_headers()

    service = servers(redirect)
    status, body, _ = wait.http_get(service.url + "/healthz")
    assert status == 302 and body is None
    assert service.hits == ["/healthz"] and elsewhere.hits == []


def test_a_huge_body_is_cut_at_64_kib(servers):
    def flood(h):
        h.send_response(200)
        h.send_header("Content-Length", str(8 * 1024 * 1024))
        h.end_headers()
        try:
            for _ in range(128):
                h.wfile.write(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass

    status, body, raw = wait.http_get(servers(flood).url + "/")
    assert status == 200 and body is None
    assert raw.endswith("[cut at 64 KiB]") and len(raw) == wait.MAX_BODY + len(" [cut at 64 KiB]")


def test_a_proxy_in_the_environment_is_not_used(servers, monkeypatch):
    proxy = servers(_ok)
    service = servers(_ok)
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    status, body, _ = wait.http_get(service.url + "/healthz")
    assert status == 200 and body == {"served_by": "web.1"}
    assert proxy.hits == [] and service.hits == ["/healthz"]


@pytest.mark.parametrize("url", ["http://localhost:8080/", "https://127.0.0.1:8080/", "file:///etc/passwd",
                                 "http://example.invalid/"])
def test_only_a_lab_address_over_http_is_asked(url):
    with pytest.raises(OSError, match="not a lab"):
        wait.http_get(url)


def test_a_service_answering_200_without_the_flow_fails_the_check_not_the_command(servers):
    from swarmlab.observe.flow import flow_checks

    service = servers(_ok)   # 200 with JSON, but served_by only, no db, redis or cache
    checks = flow_checks([("node-1", service.url)])
    assert [(c.name, c.passed) for c in checks] == [("flow via node-1", False)]
    assert "without served_by/db/redis" in checks[0].observed

