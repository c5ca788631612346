"""`images prune` beside another `up`: a seed maker left behind goes, one at work stays."""
from datetime import datetime, timedelta, timezone

from swarmlab.providers import seed


def stamp(ago_s: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=ago_s)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


class Maker:
    def __init__(self, name, running, started_ago):
        self.name, self.removed = name, False
        self.attrs = {"State": {"Running": running, "StartedAt": stamp(started_ago)}}

    def remove(self, force):
        self.removed = force


class Client:
    def __init__(self, makers):
        self.makers = makers
        self.containers = self
        self.volumes = self

    def list(self, all=False, filters=None, **_):   # containers.list and volumes.list alike
        label = (filters or {}).get("label", [])
        return self.makers if label == [f"{seed.L.ROLE}={seed.ROLE_SEED}"] and all else []


def test_a_maker_at_work_stays_and_one_left_behind_goes():
    makers = [Maker("stopped", False, 30), Maker("at-work", True, 40),
              Maker("left-running", True, seed.MAKER_STALE_S + 60)]
    seed.remove_unused(Client(makers))
    assert {m.name: m.removed for m in makers} == {"stopped": True, "at-work": False, "left-running": True}


def test_an_unreadable_start_is_old():
    assert seed._age_s("") == float("inf") and seed._age_s("0001-01-01T00:00:00Z") > 10 ** 9
    assert 0 <= seed._age_s(stamp(5)) < 60
