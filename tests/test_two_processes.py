"""Every week advances exactly once across processes: two servers on one Redis (and
MESSAGE_QUEUE), both tickers running, act on the same teams. A session with a round
timer has one team whose two players sit on different processes and bot-only teams
that keep pace with it; a session without humans plays at bot pace. The week of
every team is sampled against the clock: no week may be skipped or come twice."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
import socketio
from support import free_port, server_env, start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.redis]
TEAMS = 6
RUN_SECONDS = 16.0
ROUND = 5
BOT_ROUND = 1.0


def _session(base: str, **body: object) -> dict[str, str]:
    r = requests.post(f"{base}/api/sessions", json={"teams": TEAMS, "weeks": 40, "seed": 2, **body}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def _start(base: str, s: dict[str, str]) -> None:
    fac = socketio.Client(reconnection=False)
    fac.connect(base, wait_timeout=10)
    assert fac.call("facilitate", {"code": s["code"], "secret": s["facilitator_secret"]}, timeout=10)["ok"]
    assert fac.call("control", {"action": "start"}, timeout=10)["ok"]
    fac.disconnect()


def test_two_processes_advance_every_week_once(redis_url: str, tmp_path: Path) -> None:
    procs, bases = [], []
    players: list[socketio.Client] = []
    try:
        for i in range(2):
            port = free_port()
            env = server_env(redis_url, port, MESSAGE_QUEUE=redis_url, BOT_ROUND_SECONDS=str(BOT_ROUND))
            env["TICK_SECONDS"] = "0.2"
            procs.append(start_server([sys.executable, "-m", "web"], env, port, tmp_path / f"p{i}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        timed = _session(bases[0], round_seconds=ROUND)
        for base, role in zip(bases, ("retailer", "factory"), strict=True):  # one team, on both processes
            p = socketio.Client(reconnection=False)
            p.connect(base, wait_timeout=10)
            ack = p.call("join", {"code": timed["code"], "name": role, "team": 1, "role": role}, timeout=10)
            assert ack["ok"], ack
            players.append(p)
        bots = _session(bases[1])
        _start(bases[1], timed)
        _start(bases[0], bots)
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        samples: list[tuple[float, list[int], list[int]]] = []
        end = time.monotonic() + RUN_SECONDS
        while time.monotonic() < end:
            pipe = r.pipeline(transaction=True)
            for code in (timed["code"], bots["code"]):
                for n in range(1, TEAMS + 1):
                    pipe.hget(f"bg:s:{code}:t:{n}", "week")
            weeks = [int(w) for w in pipe.execute()]
            samples.append((time.monotonic(), weeks[:TEAMS], weeks[TEAMS:]))
            time.sleep(0.05)
    finally:
        for p in players:
            p.disconnect()
        for proc in procs:
            stop_server(proc)
    first_seen: dict[tuple[str, int, int], float] = {}
    for at, timed_weeks, bot_weeks in samples:
        # bot-only teams keep pace with the human team: never ahead of it
        assert all(w <= timed_weeks[0] for w in timed_weeks[1:]), timed_weeks
        for label, weeks in (("timed", timed_weeks), ("bots", bot_weeks)):
            for n, w in enumerate(weeks, 1):
                first_seen.setdefault((label, n, w), at)
    for label, gap in (("timed", ROUND), ("bots", BOT_ROUND)):
        for n in range(1, TEAMS + 1):
            seen = sorted((w, at) for (lb, t, w), at in first_seen.items() if lb == label and t == n)
            weeks = [w for w, _ in seen]
            assert weeks == list(range(1, weeks[-1] + 1)), (label, n, weeks)  # no week skipped
            times = [at for _, at in seen]
            # each week lasted about its round: a week advanced twice lasts a few milliseconds
            short = [round(b - a, 3) for a, b in itertools.pairwise(times) if b - a < gap / 2]
            assert not short, (label, n, weeks, short)
            assert len(weeks) >= 2, (label, n, weeks)  # it did play
    timed_last = max(w for (lb, n, w) in first_seen if lb == "timed" and n == 1)
    assert timed_last <= RUN_SECONDS // ROUND + 2
