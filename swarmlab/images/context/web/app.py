"""web: the lab's HTTP app.

GET /        -> reads an answer from db (PostgreSQL), caches it in redis with a TTL,
                and says in JSON who served it: this task and node, whether the
                answer came from the cache, and which db and redis task it talked to.
GET /?cache=skip -> the same, but always asks db (a sure cache miss) and refreshes the cache.
GET /healthz -> 200 when db and redis both answer, 503 otherwise (readiness).
GET /livez   -> 200 while the process serves (liveness: the container's health check).
A health check that asked db and redis would have Swarm kill every web task whenever
redis or db is away — a restart cascade, not a recovery.

Configuration (environment): DB_HOST, DB_NAME, DB_USER, DB_PASSWORD_FILE,
REDIS_HOST, CACHE_TTL, TASK_NAME, NODE_NAME, PORT.
"""

import json
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis

DB_HOST = os.environ.get("DB_HOST", "db")
DB_NAME = os.environ.get("DB_NAME", "postgres")
DB_USER = os.environ.get("DB_USER", "postgres")
DB_PASSWORD_FILE = os.environ.get("DB_PASSWORD_FILE", "/run/secrets/db_password")
REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
CACHE_TTL = int(os.environ.get("CACHE_TTL", "10"))
CACHE_KEY = "web:answer"
TASK = os.environ.get("TASK_NAME") or socket.gethostname()
NODE = os.environ.get("NODE_NAME", "unknown")
PORT = int(os.environ.get("PORT", "8000"))


def _password():
    with open(DB_PASSWORD_FILE, encoding="utf-8") as f:
        return f.read().strip()


def _split_ident(ident):
    task, _, node = (ident or "").partition("@")
    return {"task": task or None, "node": node or None}


def _redis():
    return redis.Redis(host=REDIS_HOST, port=6379, socket_timeout=3, socket_connect_timeout=3)


def _query_db():
    conn = psycopg2.connect(host=DB_HOST, dbname=DB_NAME, user=DB_USER, password=_password(), connect_timeout=3)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('cluster_name'), host(inet_server_addr()), now()::text, version()")
            ident, addr, now, version = cur.fetchone()
    finally:
        conn.close()
    db = _split_ident(ident)
    db["address"] = addr
    return {"db": db, "queried_at": now, "db_version": version.split(",")[0]}


def answer(use_cache=True):
    r = _redis()
    redis_info = _split_ident((r.get("swarmlab:origin") or b"").decode())
    redis_info["address"] = socket.gethostbyname(REDIS_HOST)
    cached = r.get(CACHE_KEY) if use_cache else None
    if cached is not None:
        body = json.loads(cached)
        body["cache"] = "hit"
    else:
        body = _query_db()
        r.setex(CACHE_KEY, CACHE_TTL, json.dumps(body))
        body["cache"] = "miss"
    body["served_by"] = {"task": TASK, "node": NODE, "host": socket.gethostname()}
    body["redis"] = redis_info
    body["ttl"] = CACHE_TTL
    return body


def health():
    problems = {}
    try:
        _redis().ping()
    except Exception as exc:  # readiness reports every dependency's state
        problems["redis"] = str(exc)
    try:
        _query_db()
    except Exception as exc:
        problems["db"] = str(exc)
    return problems


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body, indent=1).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        started = time.monotonic()
        if self.path == "/healthz":
            problems = health()
            self._send(503 if problems else 200, {"ok": not problems, "problems": problems, "task": TASK, "node": NODE})
        elif self.path == "/livez":
            self._send(200, {"ok": True, "task": TASK, "node": NODE})
        elif self.path in ("/", "/?cache=skip"):
            # /?cache=skip always asks db (and refreshes the cache): a sure miss
            try:
                body = answer(use_cache=self.path == "/")
                body["elapsed_ms"] = round((time.monotonic() - started) * 1000, 2)
                self._send(200, body)
            except Exception as exc:
                self._send(502, {"error": str(exc), "served_by": {"task": TASK, "node": NODE}})
        else:
            self._send(404, {"error": "not found", "paths": ["/", "/healthz", "/livez"]})

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


if __name__ == "__main__":
    # As PID 1, Python ignores SIGTERM unless it handles it: every stop, drain or `down`
    # then waited the 10 s grace period and a SIGKILL. Exit at once instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ThreadingHTTPServer.daemon_threads = True
    print(f"web {TASK} on {NODE} listening on :{PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
