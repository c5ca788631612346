"""The live page's guard, request by request: the token, the Host header (DNS
rebinding) and the Origin (another site in the same browser)."""
from swarmlab.web.guard import HEADER, Guard, cookie_token


def guard():
    return Guard("127.0.0.1", 8765, token="t0k3n-" + "x" * 30)


def req(g, method="GET", host="127.0.0.1:8765", origin=None, token=None, cookie=None, query=""):
    h = {"host": host}
    if origin:
        h["origin"] = origin
    if token:
        h[HEADER.lower()] = token
    if cookie:
        h["cookie"] = cookie
    return g.check(method, h, query)


def test_the_token_is_needed_and_may_come_from_the_url_a_cookie_or_the_header():
    g = guard()
    assert req(g) == "no valid token"
    assert req(g, query=f"token={g.token}") is None
    assert req(g, cookie=f"other=1; {g.cookie}={g.token}") is None
    assert req(g, cookie=f"swarmlab_ui_8766={g.token}") == "no valid token"   # another page's cookie
    assert req(g, token=g.token) is None
    assert req(g, query="token=" + g.token[:-1] + "y") == "no valid token"
    assert req(g, cookie=f"{g.cookie}=\"broken") == "no valid token"


def test_a_post_needs_the_header_a_cross_site_form_cannot_set():
    g = guard()
    assert req(g, "POST", cookie=f"{g.cookie}={g.token}", origin="http://127.0.0.1:8765") == \
        f"a POST needs the {HEADER} header"
    assert req(g, "POST", query=f"token={g.token}").startswith("a POST needs")
    assert req(g, "POST", token=g.token, origin="http://127.0.0.1:8765") is None
    assert req(g, "POST", token=g.token, origin="http://localhost:8765") is None


def test_another_site_is_refused_even_with_the_token():
    g = guard()
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8765", "null"):
        assert req(g, "POST", token=g.token, origin=origin) == "Origin is another site", origin
        assert req(g, token=g.token, origin=origin) == "Origin is another site"


def test_a_name_that_rebinds_to_loopback_is_refused():
    g = guard()
    for host in ("evil.example:8765", "127.0.0.1", "127.0.0.1:8766", "", None):
        assert req(g, token=g.token, host=host) == "Host is not this server", host
    assert req(g, token=g.token, host="LOCALHOST:8765") is None


def test_the_url_and_the_cookie():
    g = guard()
    assert g.url() == f"http://127.0.0.1:8765/?token={g.token}"
    assert "HttpOnly" in g.set_cookie() and "SameSite=Strict" in g.set_cookie()
    assert cookie_token(g.set_cookie().split(";")[0], "swarmlab_ui_8765") == g.token
    assert Guard("::1", 8765).url().startswith("http://[::1]:8765/?token=")
    tls = Guard("10.0.0.5", 443, tls=True)
    assert tls.url().startswith("https://10.0.0.5:443/") and "; Secure" in tls.set_cookie()
    assert tls.origin_ok("https://10.0.0.5:443") and not tls.origin_ok("http://10.0.0.5:443")
    assert Guard("10.0.0.5", 80).hosts() == ("10.0.0.5:80",) and Guard("127.0.0.1", 1).token != Guard("127.0.0.1", 1).token


def test_the_server_refuses_bad_actions_before_running_anything():
    """A real server on a free loopback port, its lab never read (no watcher started)."""
    import json
    import threading
    import urllib.error
    import urllib.request

    from swarmlab.cli.wiring import ui_runs
    from swarmlab.ui.live import Live
    from swarmlab.ui.server import make_server

    live = Live("lab", lambda: None, ui_runs())
    server = make_server(live, "127.0.0.1", 0, lambda line: None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base, token = f"http://127.0.0.1:{server.server_address[1]}", server.guard.token

    def post(path, body, raw=None):
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, method="POST", headers={HEADER: token})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
    try:
        assert post("/api/drill", {"drill": "../../etc/passwd"})[0] == 400
        code, doc = post("/api/drill", {"drill": "drain", "params": {"node": "node-2; reboot"}})
        assert code == 400 and "params.node" in doc["error"]
        assert post("/api/drill", {"drill": "no-such-drill"})[0] == 400
        assert post("/api/verify", None, raw=b"x" * 20000)[0] == 400
        assert post("/api/verify", None, raw=b"[1]")[0] == 400
        assert post("/api/nothing", {})[0] == 404
        assert live.state()["action"]["state"] == "idle"
        with urllib.request.urlopen(urllib.request.Request(base + "/", headers={HEADER: token}), timeout=5) as r:
            page = r.read().decode()
            assert "default-src 'none'" in r.headers["Content-Security-Policy"] and r.headers["X-Frame-Options"] == "DENY"
        assert f'content="{token}"' in page and "{{" not in page
    finally:
        server.shutdown()
        server.server_close()


def test_another_address_than_the_loopback_needs_an_explicit_flag():
    import pytest

    from swarmlab.cli.wiring import ui_runs
    from swarmlab.errors import ConfigError
    from swarmlab.ui import serve

    with pytest.raises(ConfigError) as exc:
        serve("lab", lambda: None, ui_runs(), "0.0.0.0", 0, False, lambda url, fp: None, lambda line: None)
    assert "--allow-remote" in str(exc.value.problems[0])


def _serving(host="127.0.0.1", tls=None):
    import threading

    from swarmlab.cli.wiring import ui_runs
    from swarmlab.ui.live import Live
    from swarmlab.ui.server import make_server

    server = make_server(Live("lab", lambda: None, ui_runs()), host, 0, lambda line: None, tls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _raw(server, data: bytes, host="127.0.0.1") -> bytes:
    import socket

    with socket.create_connection((host, server.server_address[1]), timeout=10) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk


def test_a_negative_content_length_is_refused_at_once():
    server = _serving()
    try:
        head = (f"POST /api/verify HTTP/1.0\r\nHost: 127.0.0.1:{server.server_address[1]}\r\n"
                f"{HEADER}: {server.guard.token}\r\nContent-Length: -5\r\n\r\n").encode()
        answer = _raw(server, head)
        assert answer.startswith(b"HTTP/1.0 400") and b"Content-Length must be 0 to" in answer
    finally:
        server.shutdown()
        server.server_close()


def test_idle_connections_get_no_more_threads_than_the_cap():
    import socket
    import threading

    from swarmlab.web import http as srv

    server = _serving()
    idle = []
    try:
        before = threading.active_count()
        for _ in range(srv.MAX_CONNECTIONS + 20):
            idle.append(socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10))
        # the connections past the cap are closed by the server: each reads end-of-file
        closed = 0
        for s in idle[srv.MAX_CONNECTIONS:]:
            s.settimeout(10)
            closed += s.recv(1) == b""
        assert closed == 20
        assert threading.active_count() - before <= srv.MAX_CONNECTIONS
    finally:
        for s in idle:
            s.close()
        server.shutdown()
        server.server_close()


def test_the_page_serves_on_the_ipv6_loopback():
    server = _serving("::1")
    try:
        token = server.guard.token
        head = f"GET /api/state HTTP/1.0\r\nHost: [::1]:{server.server_address[1]}\r\n{HEADER}: {token}\r\n\r\n"
        assert _raw(server, head.encode(), host="::1").startswith(b"HTTP/1.0 200")
    finally:
        server.shutdown()
        server.server_close()


def test_allow_remote_serves_tls_with_the_printed_fingerprint():
    import hashlib
    import socket
    import ssl

    from swarmlab.web import tls

    cert = tls.make("127.0.0.1")
    server = _serving(tls=cert.context)
    try:
        port = server.server_address[1]
        assert server.guard.url().startswith(f"https://127.0.0.1:{port}/?token=")
        client = ssl.create_default_context()
        client.check_hostname, client.verify_mode = False, ssl.CERT_NONE   # self-signed: checked by fingerprint
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client.wrap_socket(raw) as s:
                der = s.getpeercert(binary_form=True)
                s.sendall(f"GET /api/state HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n"
                          f"{HEADER}: {server.guard.token}\r\n\r\n".encode())
                assert s.recv(12) == b"HTTP/1.0 200"
        seen = hashlib.sha256(der).hexdigest().upper()
        assert cert.fingerprint.replace(":", "") == seen
        # plain HTTP on the TLS port gets nothing, and never the page
        assert not _raw(server, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")
    finally:
        server.shutdown()
        server.server_close()
