"""The voting app, Swarm's classic demo shape, written small for the lab (one file, three
roles, run by swarmlab's web image, delivered to the tasks as a config):

  vote    GET /vote?choice=X queues a vote in redis; GET /healthz: redis answers
  worker  moves each vote from redis into db (PostgreSQL), noting who carried it
  result  GET / counts the votes in db, with who queued and carried the last one

Every hop says which task and node it ran on, so a lab can prove the flow crossed hosts:
vote (front tier) -> redis -> worker -> db (back tier) -> result (front tier)."""
import json
import os
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg2
import redis

TASK = os.environ.get("TASK_NAME") or socket.gethostname()
NODE = os.environ.get("NODE_NAME", "unknown")
CHOICES = ("cats", "dogs")


def _redis():
    return redis.Redis(host="redis", port=6379, socket_timeout=3, socket_connect_timeout=3)


def _db():
    with open("/run/secrets/db_password", encoding="utf-8") as f:
        password = f.read().strip()
    return psycopg2.connect(host="db", user="postgres", password=password, connect_timeout=3)


def _me():
    return {"task": TASK, "node": NODE}


class Handler(BaseHTTPRequestHandler):
    role = "vote"

    def _send(self, status, body):
        data = json.dumps(body, indent=1).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        try:
            if url.path == "/healthz":
                _redis().ping() if self.role == "vote" else _db().close()
                self._send(200, {"ok": True, **_me()})
            elif self.role == "vote" and url.path == "/vote":
                choice = (parse_qs(url.query).get("choice") or [""])[0]
                if choice not in CHOICES:
                    return self._send(400, {"error": f"choice must be one of {', '.join(CHOICES)}"})
                _redis().lpush("votes", json.dumps({"choice": choice, "vote": _me()}))
                self._send(200, {"queued": choice, "vote": _me()})
            elif self.role == "result" and url.path == "/":
                self._send(200, results())
            else:
                self._send(404, {"error": "not found"})
        except Exception as exc:   # the reply says what failed: the lab is for seeing that
            self._send(503, {"error": str(exc), **_me()})

    def log_message(self, fmt, *args):
        print("%s %s" % (self.address_string(), fmt % args), flush=True)


def results():
    conn = _db()
    try:
        with conn, conn.cursor() as cur:
            _table(cur)
            cur.execute("SELECT choice, count(*) FROM votes GROUP BY choice")
            counts = dict(cur.fetchall())
            cur.execute("SELECT vote, worker, current_setting('cluster_name') FROM votes ORDER BY id DESC LIMIT 1")
            last = cur.fetchone()
    finally:
        conn.close()
    out = {"counts": {c: counts.get(c, 0) for c in CHOICES}, "result": _me()}
    if last:
        out["last"] = {"vote": json.loads(last[0]), "worker": json.loads(last[1]), "db": last[2]}
    return out


def _table(cur):
    cur.execute("CREATE TABLE IF NOT EXISTS votes (id serial PRIMARY KEY, choice text, vote text, worker text)")


def work():
    """Carry votes from redis to db until stopped; a dependency away is waited for."""
    while True:
        try:
            r, conn = _redis(), _db()
            with conn, conn.cursor() as cur:
                _table(cur)
            while True:
                item = r.brpop("votes", timeout=2)
                if item:
                    vote = json.loads(item[1])
                    with conn, conn.cursor() as cur:
                        cur.execute("INSERT INTO votes (choice, vote, worker) VALUES (%s, %s, %s)",
                                    (vote["choice"], json.dumps(vote["vote"]), json.dumps(_me())))
                    print(f"worker {TASK}: carried a vote for {vote['choice']}", flush=True)
        except Exception as exc:
            print(f"worker {TASK}: {exc}; again in 1 s", flush=True)
            time.sleep(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    role = sys.argv[1] if len(sys.argv) > 1 else "vote"
    if role == "worker":
        work()
    Handler.role = role
    ThreadingHTTPServer.daemon_threads = True
    print(f"{role} {TASK} on {NODE} listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
