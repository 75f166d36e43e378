"""The Redis store: key scheme, the submit and commit scripts, races, expiry.

Runs against a real redis-server and against the in-process fakeredis."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

import pytest
import redis as redis_lib

from web.config import load_config
from web.play import rounds, sessions
from web.store import DEADLINES, SESSIONS, Store
from web.store.records import Committed, SeatRef, SessionSettings, Team

NOW = 1_700_000_000.0


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "redis":
        return Store.from_url(request.getfixturevalue("redis_url"))
    return Store.from_url(None)


def _sub(got: Any) -> tuple[str, bool]:
    return got.status, got.complete


def team(store: Store, code: str, n: int = 1) -> Team:
    t = store.team(code, n)
    assert t is not None
    return t


def commit(store: Store, code: str, week: int, dec_rev: int = 0, seconds: float | None = None) -> Committed:
    """Write week ``week + 1`` of team 1 (the state as it is, under the next week's number) if
    the team is on ``week`` with ``dec_rev``."""
    snap = store.team_snapshot(code, 1)
    assert snap is not None and snap.team.state is not None
    before = replace(snap, team=replace(snap.team, week=week, dec_rev=dec_rev))
    new = replace(snap.team, week=week + 1, state=replace(snap.team.state, week=week + 1))
    return store.commit(code, 1, before, new, {"week": week, "roles": {}, "bots": []}, seconds, NOW)


def cfg(**over: Any) -> dict[str, Any]:
    return load_config({"TICKER": False, **over}, environ={})


def new_session(store: Store, **body: Any) -> dict[str, Any]:
    return sessions.create_session(store, cfg(), {"scenario": "classic", "weeks": 6, "seed": 1, **body}, NOW)


def fill(store: Store, code: str, team: int = 1, roles: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out = []
    for role in roles or ("retailer", "wholesaler", "distributor", "factory"):
        out.append(sessions.join(store, cfg(), {"code": code, "name": role, "team": team, "role": role}, NOW))
    return out


def test_create_writes_the_documented_keys(store: Store) -> None:
    s = new_session(store, teams=2)
    code = s["code"]
    assert code in store.r.smembers(SESSIONS)
    meta = store.session(code)
    assert meta is not None and meta.status == "setup"
    assert s["facilitator_secret"] not in json.dumps(store.r.hgetall(store.session_key(code)))  # only the hash
    assert meta.settings.teams == 2
    for n in (1, 2):
        t = team(store, code, n)
        assert t.week == 1 and t.state is not None and t.state.week == 1 and t.bounds
    assert store.r.ttl(store.session_key(code)) > 0


# a session's settings as stored sessions keep them (JSON): one with an end window, a chosen
# CODP rule and its own scenario, and one stored before games ended in a window
STORED = (
    '{"scenario": "mine", "custom": "name = \\"mine\\"\\n", "teams": 2, "weeks": 6, "end_window": [5, 8], '
    '"end_known": true, "seed": 7, "codp": {"rule": "team", "position": "mto"}, '
    '"visibility": {"pos_demand": true, "inventories": false, "pipelines": false}, "bot_policy": "sterman"}'
)
STORED_BEFORE_WINDOWS = (
    '{"scenario": "classic", "teams": 1, "weeks": 20, "seed": 3, "codp": {"rule": "fixed", "position": null}, '
    '"visibility": {"pos_demand": false}, "bot_policy": "naive"}'
)


def test_stored_settings_load_as_a_record_and_are_written_back_as_they_were(store: Store) -> None:
    for code, config in (("OLD1", STORED), ("OLD2", STORED_BEFORE_WINDOWS)):
        store.r.hset(store.session_key(code), mapping={"config": config, "secret": "h", "status": "running"})
    old = store.session("OLD1")
    assert old is not None and (old.status, old.round_seconds, old.secret) == ("running", 0, "h")
    vis = {"pos_demand": True, "inventories": False, "pipelines": False}
    assert old.settings == SessionSettings(
        "mine", 2, 6, 7, "team", "mto", vis, "sterman", (5, 8), True, 'name = "mine"\n'
    )
    assert store.create_session("NEW1", old, NOW, [], 60)
    assert store.r.hget(store.session_key("NEW1"), "config") == STORED
    older = store.session("OLD2")
    assert older is not None  # it ends after its weeks, and tells the last week as its scenario says
    assert older.settings == SessionSettings(
        "classic", 1, 20, 3, "fixed", None, {"pos_demand": False}, "naive", (20, 20)
    )
    assert sessions.meta_from("OLD2", older).end == 20


def test_tokens_are_stored_as_hashes(store: Store) -> None:
    code = new_session(store)["code"]
    seat = fill(store, code, roles=("retailer",))[0]
    dump = json.dumps({k: store.r.get(k) if store.r.type(k) == "string" else None for k in store.r.keys("*")})
    dump += json.dumps(store.r.hgetall(store.team_key(code, 1, "seats")))
    assert seat["token"] not in dump
    assert store.token(sessions.digest(seat["token"])) == SeatRef(code, 1, "retailer")
    assert store.seats(code, 1)["retailer"].holds(sessions.digest(seat["token"]))


def test_submit_script_checks_status_week_seat_and_changes(store: Store) -> None:
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer", "factory"))
    assert _sub(store.submit(code, 1, 1, "retailer", 4)) == ("not_running", False)
    store.set_session(code, status="running")
    assert _sub(store.submit(code, 1, 2, "retailer", 4)) == ("stale_week", False)
    assert _sub(store.submit(code, 1, 1, "wholesaler", 4)) == ("forbidden", False)  # a bot plays it
    first = store.submit(code, 1, 1, "retailer", 4)
    assert (_sub(first), first.previous) == (("ok", False), None)
    changed = store.submit(code, 1, 1, "retailer", 9)  # a change replaces the earlier decision
    assert (_sub(changed), changed.previous, changed.decided) == (("ok", False), 4, {"retailer"})
    assert store.team_snapshot(code, 1).dec == {"retailer": 9}  # type: ignore[union-attr]
    assert team(store, code).dec_rev == 2
    assert _sub(store.submit(code, 1, 1, "factory", 5)) == ("ok", True)


def test_commit_is_a_compare_and_set_on_the_week(store: Store) -> None:
    code = new_session(store)["code"]
    store.set_session(code, status="running")
    assert commit(store, code, 1).result == 1
    assert commit(store, code, 1).result == 0
    assert team(store, code).week == 2
    assert len(store.weeks(code, 1)) == 1


def test_a_state_is_never_written_without_its_bounds(store: Store) -> None:
    """A state of a game that goes on is refused without its decision bounds, by a commit and
    by a strategy review alike: nothing has to repair them afterwards."""
    code = new_session(store)["code"]
    store.set_session(code, status="running")
    snap = store.team_snapshot(code, 1)
    assert snap is not None
    bare = replace(snap.team, bounds={})
    with pytest.raises(ValueError, match="bounds"):
        store.commit(code, 1, snap, bare, {"week": 1, "roles": {}, "bots": []}, None, NOW)
    with pytest.raises(ValueError, match="bounds"):
        store.replace_state(code, 1, 1, bare)
    assert team(store, code).week == 1 and team(store, code).bounds == snap.team.bounds


def test_commit_refuses_when_a_decision_arrived_meanwhile(store: Store) -> None:
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer",))
    store.set_session(code, status="running")
    assert store.submit(code, 1, 1, "retailer", 7).status == "ok"
    assert commit(store, code, 1).result == -1
    assert team(store, code).week == 1
    assert store.team_snapshot(code, 1).dec == {"retailer": 7}  # type: ignore[union-attr]


def test_commit_refuses_when_a_decision_changed_meanwhile(store: Store) -> None:
    """A change keeps the number of decisions: the week computed before it is not written."""
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer",))
    store.set_session(code, status="running")
    assert store.submit(code, 1, 1, "retailer", 7).complete
    read = team(store, code).dec_rev
    assert store.submit(code, 1, 1, "retailer", 8).previous == 7
    assert commit(store, code, 1, read).result == -1
    assert commit(store, code, 1, read + 1).result == 1
    assert team(store, code).week == 2


def test_commit_sets_the_next_deadline_and_refuses_unless_running(store: Store) -> None:
    code = new_session(store)["code"]
    store.set_session(code, status="running")
    assert commit(store, code, 1, seconds=30).result == 1
    assert team(store, code).deadline == pytest.approx(NOW + 30)
    assert store.due(NOW + 31) == [(code, 1)]
    for status in ("paused", "over", "setup"):
        store.set_session(code, status=status)
        assert commit(store, code, 2, seconds=30).result == 0
        assert team(store, code).week == 2
    assert store.r.zscore(DEADLINES, f"{code}:1") == pytest.approx(NOW + 30)


def test_racing_advances_write_each_week_exactly_once(store: Store) -> None:
    """Many threads force the same team's round at once: one week per round, no lost or doubled week."""
    c = cfg()
    code = new_session(store, weeks=4)["code"]
    store.set_session(code, status="running")
    wins: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def racer() -> None:
        barrier.wait()
        for _ in range(3):
            ch = rounds.advance(store, c, code, 1, NOW, "force")
            with lock:
                wins.extend(w for _, w in ch.advanced)

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    weeks = [w["week"] for w in store.weeks(code, 1)]
    assert weeks == sorted(set(weeks)) == list(range(1, len(weeks) + 1))
    assert len(wins) == len(weeks)  # one reported win per written week
    assert len(weeks) == 4  # the whole (short) game got played, nothing more


def test_racing_last_submissions_advance_once(store: Store) -> None:
    """Threads hammer submit for the last undecided seat while others force the round."""
    c = cfg()
    code = new_session(store)["code"]
    fill(store, code)
    store.set_session(code, status="running")
    for role in ("retailer", "wholesaler", "distributor"):
        rounds.submit(store, c, code, 1, role, {"week": 1, "value": 4}, NOW)
    results: list[str] = []
    advanced: list[tuple[str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(10)

    def submitter() -> None:
        barrier.wait()
        try:
            ch = rounds.submit(store, c, code, 1, "factory", {"week": 1, "value": 6}, NOW)
            out = "ok"
        except rounds.GameError as exc:
            ch, out = rounds.Changes(), exc.code
        with lock:
            results.append(out)
            advanced.extend(ch.advanced)

    threads = [threading.Thread(target=submitter) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a repeat before the week closed is a change (accepted), one after it is stale
    assert results.count("ok") >= 1
    assert set(results) <= {"ok", "stale_week"}
    assert advanced == [(code, 1)]
    weeks = store.weeks(code, 1)
    assert [w["week"] for w in weeks] == [1]
    assert weeks[0]["roles"]["factory"]["decision"] == 6
    assert weeks[0]["bots"] == []
    assert team(store, code).week == 2


def test_finished_games_expire(store: Store) -> None:
    c = cfg(GAME_TTL_SECONDS=120, IDLE_TTL_SECONDS=10_000)
    code = sessions.create_session(store, c, {"weeks": 2, "seed": 1}, NOW)["code"]
    seat = fill(store, code, roles=("retailer",))[0]
    store.set_session(code, status="running")
    assert store.r.ttl(store.session_key(code)) > 1000
    for _ in range(2):
        rounds.advance(store, c, code, 1, NOW, "force")
    assert store.session(code).status == "over"  # type: ignore[union-attr]
    for key in (store.session_key(code), store.team_key(code, 1), store.team_key(code, 1, "weeks")):
        assert 0 < store.r.ttl(key) <= 120
    assert 0 < store.r.ttl(store.token_key(sessions.digest(seat["token"]))) <= 120
    assert store.r.zscore(DEADLINES, f"{code}:1") is None


def test_same_seed_same_demand_for_every_team(store: Store) -> None:
    code = new_session(store, teams=3, seed=42)["code"]
    demands = [team(store, code, n).state.demand for n in (1, 2, 3)]  # type: ignore[union-attr]
    assert demands[0] == demands[1] == demands[2]


@pytest.mark.redis
def test_redis_conf_is_durable_and_loads(tmp_path: Any) -> None:
    """config/redis.conf starts a real redis-server with AOF on and fsync on every write."""
    import shutil
    import subprocess

    import redis as redis_lib
    from support import REDIS_BIN, ROOT, free_port, wait_until

    if not shutil.which(REDIS_BIN):
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_BIN, str(ROOT / "config" / "redis.conf"), "--port", str(port), "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis_lib.Redis(port=port, decode_responses=True)
        wait_until(client.ping, timeout=20)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("appendfsync")["appendfsync"] == "always"
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        store = Store(client)
        code = sessions.create_session(store, cfg(), {"weeks": 3}, NOW)["code"]
        assert store.session(code).status == "setup"  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_key_of_a_session_carries_a_ttl_mid_game(store: Store) -> None:
    c = cfg()
    code = new_session(store, teams=2)["code"]
    fill(store, code)
    store.set_session(code, status="running")
    store.mark_seen(code, [(1, "retailer")], NOW)
    rounds.submit(store, c, code, 1, "retailer", {"week": 1, "value": 4}, NOW)
    rounds.advance(store, c, code, 2, NOW, "force")
    rounds.control(store, c, code, {"action": "seat_to_bot", "team": 2, "role": "factory"}, NOW)
    keys = store.r.keys("bg:s:*") + store.r.keys("bg:tok:*")
    assert {k for k in keys if k.endswith(":dec")} and {k for k in keys if k.endswith(":weeks")}
    assert {k: store.r.ttl(k) for k in keys if store.r.ttl(k) <= 0} == {}


@pytest.mark.redis
def test_many_concurrent_callers_wait_for_a_connection(redis_url: str) -> None:
    """More callers than pooled connections queue for one instead of failing."""
    store = Store.from_url(redis_url, max_connections=2)
    code = sessions.create_session(store, cfg(), {"weeks": 3}, NOW)["code"]
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                store.team_snapshot(code, 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_replace_state_swaps_within_the_week_only_and_writes_the_bounds(store: Store) -> None:
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer", "factory"))
    store.set_session(code, status="running")
    store.submit(code, 1, 1, "retailer", 4)
    t = team(store, code)
    assert t.state is not None
    new = replace(t, codp="mto", state=replace(t.state, codp="mto"), bounds={"retailer": (0, 7), "factory": (0, 7)})
    assert store.replace_state(code, 1, 2, new) is False
    assert store.team_snapshot(code, 1).dec == {"retailer": 4}  # type: ignore[union-attr]
    assert store.replace_state(code, 1, 1, new, by="Ada") is True
    t = team(store, code)
    assert t.codp == "mto" and t.state is not None and t.state.codp == "mto" and t.codp_by == "Ada"
    assert store.team_snapshot(code, 1).dec == {}  # type: ignore[union-attr]
    assert t.bounds == {"retailer": (0, 7), "factory": (0, 7)}  # written with the state
    got = store.submit(code, 1, 1, "retailer", 8)
    assert (got.status, got.bounds) == ("out_of_bounds", (0, 7))


def test_submit_checks_the_bounds_stored_with_the_state(store: Store) -> None:
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer",))
    store.set_session(code, status="running")
    lo, hi = team(store, code).bounds["retailer"]
    got = store.submit(code, 1, 1, "retailer", hi + 1)
    assert (got.status, got.bounds) == ("out_of_bounds", (lo, hi))
    assert _sub(store.submit(code, 1, 1, "retailer", lo - 1)) == ("out_of_bounds", False)
    assert store.team_snapshot(code, 1).dec == {}  # type: ignore[union-attr]
    got = store.submit(code, 1, 1, "retailer", hi)
    assert (got.status, got.week, got.decided) == ("ok", 1, {"retailer"})


def test_a_strategy_review_writes_the_new_state_with_its_bounds(store: Store) -> None:
    code = new_session(store, codp={"rule": "team"})["code"]
    fill(store, code, roles=("retailer", "factory"))
    rounds.choose_codp(store, code, 1, "mto", role="retailer")  # before the start: a new game
    t = team(store, code)
    assert t.codp == "mto" and t.codp_by == "retailer" and t.bounds
    assert t.bounds == sessions.new_team(sessions.load_meta(store, code).scenario_for("mto"), 1, 1, "mto").bounds


def test_the_last_submission_completes_the_week_and_the_commit_renews_its_expiry(store: Store) -> None:
    c = cfg(IDLE_TTL_SECONDS=5000)
    code = new_session(store)["code"]
    seats = fill(store, code, roles=("retailer",))
    store.set_session(code, status="running")
    got = store.submit(code, 1, 1, "retailer", 4)
    assert got.complete and got.humans == {"retailer"} and got.decided == {"retailer"}
    keys = [store.session_key(code), f"bg:s:{code}:seen", store.token_key(sessions.digest(seats[0]["token"]))]
    keys += [store.team_key(code, 1, p) for p in ("", "weeks", "seats", "humans")]
    store.mark_seen(code, [(1, "retailer")], NOW)
    for key in keys:
        store.r.expire(key.rstrip(":"), 100)
    changes = rounds.advance(store, c, code, 1, NOW, "complete", week=1)
    assert changes.advanced == {(code, 1)}
    for key in keys:
        assert 4000 < store.r.ttl(key.rstrip(":")) <= 5000, key
    fresh = changes.fresh[(code, 1)]
    assert fresh.team.week == 2 and fresh.dec == {} and fresh.humans == {"retailer"}
    assert fresh.team == team(store, code)
    assert fresh.seats == store.seats(code, 1) and fresh.weeks_count == 1


def test_many_teams_are_read_in_one_call(store: Store) -> None:
    code = new_session(store, teams=3)["code"]
    fill(store, code, team=2, roles=("retailer", "factory"))
    store.set_session(code, status="running")
    store.submit(code, 2, 1, "factory", 5)
    rows = store.teams(code, [1, 2, 3], ("week", "done", "name"), ("dec", "decided", "seats", "taken", "humans"))
    assert [r.team for r in rows] == [Team(week=1, name=f"Team {n}") for n in (1, 2, 3)]
    assert rows[1].dec == {"factory": 5} and rows[1].decided == {"factory"}
    assert rows[1].seats == store.seats(code, 2) and rows[1].taken == {"retailer", "factory"}
    assert rows[1].humans == {"retailer", "factory"} and rows[0].humans == set()
    assert store.teams(code, [], ("week",)) == []


def test_a_seat_is_seen_and_closed_in_one_field(store: Store) -> None:
    code = new_session(store)["code"]
    store.mark_seen(code, [(1, "retailer"), (1, "factory")], NOW)
    store.mark_seen(code, [(1, "factory")], NOW + 1, closed=True)
    assert store.presence(code) == ({(1, "retailer"): NOW, (1, "factory"): NOW + 1}, {(1, "factory")})
    store.mark_seen(code, [(1, "factory")], NOW + 2)  # held again
    assert store.presence(code) == ({(1, "retailer"): NOW, (1, "factory"): NOW + 2}, set())
    assert 0 < store.r.ttl(f"bg:s:{code}:seen") <= store.r.ttl(store.session_key(code)) + 1  # the session's expiry


@pytest.mark.redis
def test_a_connection_the_server_closed_is_replaced_before_the_next_command(redis_url: str) -> None:
    store = Store.from_url(redis_url, max_connections=1)
    first = store.r.client_id()
    assert redis_lib.Redis.from_url(redis_url).client_kill_filter(_id=first) == 1
    assert store.r.set("k", "v")  # no ConnectionError: the pool noticed and connected again
    assert store.r.client_id() != first


@pytest.mark.redis
def test_the_scripts_are_loaded_again_where_redis_lost_them(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    code = new_session(store)["code"]
    fill(store, code, roles=("retailer",))
    store.set_session(code, status="running")
    store.r.script_flush()  # as after a restart without persistence of the script cache
    assert _sub(store.submit(code, 1, 1, "retailer", 4)) == ("ok", True)
    with pytest.raises(redis_lib.ResponseError):  # an error inside a script leaves the connection usable
        store._run(store._teams, [store.team_key(code, 1)], [])
    assert store.teams(code, [1], ("week",))[0].team.week == 1
