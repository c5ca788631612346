"""The flow swarmlab's own web app reports: a request from outside reaches web, then db and
redis on other hosts; a forced miss is served by db, the next request by the cache."""

from __future__ import annotations

import json
from typing import List

from ..images.build import image_ref
from ..naming import short_task as _short
from ..result import CheckResult
from .http import http_get

WEB_IMAGE = image_ref("web")


def runs_web_app(image: str, own_command: bool) -> bool:
    """The service runs swarmlab's web app: its image, with the image's own command."""
    return image == WEB_IMAGE and not own_command


def _flow_shaped(doc) -> bool:
    """The web app's answer: cache, and served_by/db/redis each with node and task (any
    other service answering 200 is a failed check, never a crash)."""
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("cache"), str)
        and all(
            isinstance(doc.get(k), dict) and isinstance(doc[k].get("node"), str) and isinstance(doc[k].get("task"), str)
            for k in ("served_by", "db", "redis")
        )
    )


def flow_checks(targets) -> List[CheckResult]:
    """For each (node, base URL): a forced miss then a hit, and the hosts each hop ran on."""
    checks: List[CheckResult] = []
    for node, base in targets:
        miss_status, miss, miss_raw = http_get(base + "/?cache=skip")
        hit_status, hit, hit_raw = http_get(base + "/")
        evidence = json.dumps({"miss": miss or miss_raw[:300], "hit": hit or hit_raw[:300]})[:1500]
        if (
            miss is None
            or hit is None
            or miss_status != 200
            or not _flow_shaped(miss)
            or hit_status != 200
            or not _flow_shaped(hit)
        ):
            checks.append(
                CheckResult(
                    f"flow via {node}",
                    False,
                    "200 with the flow's JSON from GET / twice",
                    f"HTTP {miss_status} then {hit_status}"
                    + (
                        ""
                        if miss_status != 200 or hit_status != 200
                        else ", without served_by/db/redis nodes and cache"
                    ),
                    evidence,
                )
            )
            continue
        served, db, redis = miss["served_by"]["node"], miss["db"]["node"], miss["redis"]["node"]
        checks.append(
            CheckResult(
                f"cache via {node}",
                miss["cache"] == "miss" and hit["cache"] == "hit",
                "a forced miss answered by db, then a hit answered by redis",
                f"{miss['cache']} then {hit['cache']}",
                evidence,
            )
        )
        crossing = served != db and served != redis
        checks.append(
            CheckResult(
                f"cross-host via {node}",
                crossing,
                "web, db and redis tasks on different hosts",
                f"{_short(miss['served_by']['task'])} on {served} -> {_short(miss['db']['task'])} on {db}, "
                f"{_short(miss['redis']['task'])} on {redis}",
                evidence,
            )
        )
    return checks
