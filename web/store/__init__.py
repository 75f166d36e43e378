"""Redis store: every byte of game state, under one documented key scheme.

Key scheme (``{code}`` = join code, ``{n}`` = team number from 1; the full
table with every field is in docs/ARCHITECTURE.md):

- ``bg:sessions`` set of live codes; ``bg:deadlines`` zset ``"{code}:{n}"`` -> deadline
- ``bg:s:{code}`` hash: config (the settings as JSON), secret hash, status, round_seconds,
  created, started, end_revealed
- ``bg:s:{code}:t:{n}`` hash: week, state JSON, bot memory JSON, done, codp, name,
  deadline, remaining (while paused), advanced_at, dec_rev (bumped by every decision
  recorded or changed), codp_by (who chose the CODP last)
- ``bg:s:{code}:t:{n}:dec`` hash role -> this week's human decision (the latest one)
- ``bg:s:{code}:t:{n}:weeks`` list of week records (``GameResult.weeks`` shape)
- ``bg:s:{code}:t:{n}:seats`` hash role -> ``{"name", "token" (SHA-256), "joined"}``, and
  ``"shared"``: the players who joined the seat later, each ``{"name", "token", "joined"}``
- ``bg:s:{code}:t:{n}:humans`` / ``:forced`` sets of roles a human plays / the
  facilitator gave to a bot
- ``bg:s:{code}:seen`` hash ``"{n}:{role}"`` -> when a connection last held the seat
- ``bg:tok:{sha256 of token}`` JSON ``{"code", "team", "role"}``

Everything of a session expires ``IDLE_TTL_SECONDS`` after its last round and
``GAME_TTL_SECONDS`` after it is over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
from redis.commands.core import Script

from game.state import GameState
from web.store.connection import Connection
from web.store.records import (
    Bounds,
    Committed,
    Player,
    Seat,
    SeatRef,
    SessionRecord,
    SessionSettings,
    Submitted,
    Team,
    TeamSnapshot,
    WeekEntry,
)

log = logging.getLogger(__name__)

LUA_DIR = Path(__file__).resolve().parent / "lua"
SESSIONS = "bg:sessions"
# what ``Store.teams`` reads of a team: part -> (its letter in teams.lua, the key's suffix)
TEAM_PARTS = {
    "dec": ("d", "dec"),
    "decided": ("k", "dec"),
    "seats": ("s", "seats"),
    "taken": ("r", "seats"),
    "humans": ("m", "humans"),
    "forced": ("m", "forced"),
}
DEADLINES = "bg:deadlines"
LEADER = "bg:leader"  # with MESSAGE_QUEUE: the id of the process that runs the ticker (a lease)
STATE_LIMIT = 1000  # parsed states kept (a class is at most MAX_TEAMS teams)
# take the lease when it is free, keep it when we hold it
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
SEEN_BATCH = 1000  # seats marked seen per call of seen.lua
# ``Store.presence``: when each seat was last held, and the seats whose last connection closed
Presence = tuple[dict[tuple[int, str], float], set[tuple[int, str]]]
# what an unreachable (or still loading) store raises: answered with ``unavailable``
STORE_DOWN: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
# anything the store may raise when a call fails (down, or an error reply)
STORE_FAILED: tuple[type[BaseException], ...] = (redis.RedisError, OSError)


def digest(secret: str) -> str:
    """SHA-256 hex of a secret or token (only hashes are stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _pairs(flat: list[str]) -> dict[str, str]:
    """A Redis ``HGETALL`` reply inside a script's answer (a flat list) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _player(doc: dict[str, Any]) -> Player:
    return Player(doc["name"], doc["token"], float(doc.get("joined") or 0))


def _player_doc(player: Player) -> dict[str, Any]:
    return {"name": player.name, "token": player.token, "joined": player.joined}


def _seat_json(seat: Seat) -> str:
    """A seat as its hash field keeps it: the first player's fields, and those who share it (``shared``)."""
    first, *shared = seat.players
    doc = _player_doc(first)
    if shared:
        doc["shared"] = [_player_doc(p) for p in shared]
    return json.dumps(doc)


def _where_json(code: str, team: int, role: str) -> str:
    """What a seat token's key holds: where it leads."""
    return json.dumps({"code": code, "team": team, "role": role})


def _bounds_json(bounds: Bounds) -> str:
    """Decision bounds per role as the team hash keeps them (``bounds``)."""
    return json.dumps({role: [int(lo), int(hi)] for role, (lo, hi) in bounds.items()}, separators=(",", ":"))


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _num(text: str | None) -> float | None:
    """A time stored as text ('' or missing: none)."""
    return float(text) if text else None


def _session(raw: dict[str, str]) -> SessionRecord | None:
    """A session from its hash (None when it has no config: unknown or expired)."""
    if not raw or "config" not in raw:
        return None
    return SessionRecord(
        settings=_settings(json.loads(raw["config"])),
        status=raw.get("status", "setup"),
        round_seconds=int(raw.get("round_seconds") or 0),
        secret=raw.get("secret", ""),
        end_revealed=raw.get("end_revealed") == "1",
    )


def _settings(doc: dict[str, Any]) -> SessionSettings:
    """A session's settings from the JSON object its hash keeps (``config``). A session stored
    before games ended in a window ends after its weeks, as its states do; one stored before
    the players could be told the last week has ``end_told`` None (as the scenario says)."""
    codp = doc["codp"]
    weeks = int(doc["weeks"])
    first, last = doc.get("end_window") or (weeks, weeks)
    return SessionSettings(
        scenario=doc["scenario"],
        teams=int(doc["teams"]),
        weeks=weeks,
        seed=int(doc["seed"]),
        codp_rule=codp["rule"],
        codp=codp["position"],
        visibility=dict(doc["visibility"]),
        bot_policy=doc["bot_policy"],
        end_window=(int(first), int(last)),
        end_told=doc.get("end_known"),
        custom=doc.get("custom"),
    )


def _settings_json(settings: SessionSettings) -> str:
    """A session's settings as its hash keeps them (``config``): one JSON object, keys in this order."""
    s = settings
    doc = {
        "scenario": s.scenario,
        **({"custom": s.custom} if s.custom else {}),
        "teams": s.teams,
        "weeks": s.weeks,
        "end_window": list(s.end_window),
        "end_known": s.end_told,
        "seed": s.seed,
        "codp": {"rule": s.codp_rule, "position": s.codp},
        "visibility": s.visibility,
        "bot_policy": s.bot_policy,
    }
    return json.dumps(doc)


def _session_hash(session: SessionRecord) -> dict[str, str]:
    return {
        "config": _settings_json(session.settings),
        "secret": session.secret,
        "status": session.status,
        "round_seconds": str(int(session.round_seconds)),
    }


def _team(raw: dict[str, str], state: GameState | None) -> Team:
    """A team from the fields of its hash that were read."""
    memory = raw.get("memory")
    return Team(
        week=int(raw.get("week") or 0),
        done=raw.get("done") == "1",
        codp=raw.get("codp") or None,
        shop=raw.get("shop") or None,
        name=raw.get("name") or "",
        deadline=_num(raw.get("deadline")),
        remaining=_num(raw.get("remaining")),
        advanced_at=float(raw.get("advanced_at") or 0),
        dec_rev=int(raw.get("dec_rev") or 0),
        codp_by=raw.get("codp_by") or None,
        deal=None if not raw.get("deal") else raw["deal"] == "1",
        deal_by=raw.get("deal_by") or None,
        state=state,
        memory=json.loads(memory) if memory else {},
        bounds=_bounds(raw.get("bounds")),
    )


def _bounds(text: str | None) -> Bounds:
    return {role: (lo, hi) for role, (lo, hi) in json.loads(text).items()} if text else {}


def _state_fields(state: GameState, bounds: Bounds) -> dict[str, str]:
    """A state as the team hash keeps it, always with its decision bounds (none once the game is
    over; ``web.play.sessions.at_state`` gives a team both)."""
    if not bounds and not state.done:
        raise ValueError("a state of a game that goes on is written with its decision bounds")
    return {"week": str(state.week), "state": json.dumps(state.to_dict()), "bounds": _bounds_json(bounds)}


def _team_hash(team: Team) -> dict[str, str]:
    """A new team's hash: its state with its bounds and every other field."""
    assert team.state is not None
    return {
        **_state_fields(team.state, team.bounds),
        "memory": json.dumps(team.memory),
        "done": _flag(team.done),
        "codp": team.codp or "",
        "shop": team.shop or "",
        "name": team.name,
        "deadline": "" if team.deadline is None else f"{team.deadline:.3f}",
        "remaining": "" if team.remaining is None else f"{team.remaining:.3f}",
        "advanced_at": f"{team.advanced_at:.3f}" if team.advanced_at else "",
    }


def connect(url: str | None, max_connections: int = 50) -> tuple[redis.Redis, str]:
    """A Redis client for ``url`` and the store kind (``redis``), or an in-process
    fakeredis with Lua (``memory``) when ``url`` is empty.

    The pool blocks (up to 30 s) when all ``max_connections`` are busy: with
    gevent, hundreds of handlers may want Redis at the same moment, and they
    should queue for a connection rather than fail."""
    if url:
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=30,
            decode_responses=True,
            health_check_interval=30,
            connection_class=Connection,
        )
        return redis.Redis(connection_pool=pool), "redis"
    import fakeredis

    return fakeredis.FakeRedis(decode_responses=True), "memory"


class Channel:
    """A Redis pub/sub channel between the server processes (``MESSAGE_QUEUE``): what the
    relay publishes and what it hears, as text. Raises ``STORE_FAILED`` as the store does."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self._r = redis.Redis.from_url(
            url, decode_responses=True, health_check_interval=30, connection_class=Connection
        )
        self._pubsub: Any = None

    def publish(self, text: str) -> None:
        """Send ``text`` to every subscriber (this process's too)."""
        self._r.execute_command("PUBLISH", self.name, text)

    def batches(self, most: int) -> Iterator[list[str]]:
        """Subscribe, then wait for the next message (no polling) and yield it with what else
        has arrived meanwhile (at most ``most``), until the connection fails or is closed."""
        pubsub = self._pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.name)
            for msg in pubsub.listen():
                batch = [msg]
                while len(batch) < most:
                    more = pubsub.get_message(timeout=0)
                    if more is None:
                        break
                    batch.append(more)
                yield [m["data"] for m in batch if m.get("type") == "message"]
        finally:
            with contextlib.suppress(Exception):  # closing a broken connection
                pubsub.close()

    def close(self) -> None:
        """Wake a subscriber waiting for a message (its connection closes under it)."""
        with contextlib.suppress(Exception):
            self._pubsub.connection.disconnect()


class Store:
    """Typed access to the key scheme above, plus the atomic Lua scripts."""

    def __init__(self, client: redis.Redis, kind: str = "redis") -> None:
        self.r = client
        self.kind = kind
        self._submit = client.register_script((LUA_DIR / "submit.lua").read_text())
        self._commit = client.register_script((LUA_DIR / "commit.lua").read_text())
        self._teams = client.register_script((LUA_DIR / "teams.lua").read_text())
        self._seen = client.register_script((LUA_DIR / "seen.lua").read_text())
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._states: dict[str, tuple[str, GameState]] = {}  # team key -> (state text, parsed)
        self._seats: dict[str, Seat] = {}  # a seat's JSON text -> its value (a seat changes only when taken)

    def _run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run one of the store's scripts: ``EVALSHA`` on a pooled connection, loading
        the script first where Redis no longer has it (after a restart). Straight on
        the connection rather than through ``Script.__call__`` and redis-py's command
        path (type checks, retry and metrics wrappers; see docs/PERFORMANCE.md); the
        in-process store takes the ordinary path."""
        if self.kind != "redis":
            return script(keys=keys, args=args)
        pool = self.r.connection_pool
        conn = pool.get_connection()
        try:
            try:
                conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return conn.read_response()
            except redis.exceptions.NoScriptError:
                conn.send_command("SCRIPT", "LOAD", script.script)
                script.sha = conn.read_response()
                conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return conn.read_response()
        except BaseException as exc:
            if not isinstance(exc, redis.ResponseError):  # a reply may be left half read
                conn.disconnect()
            raise
        finally:
            pool.release(conn)

    @classmethod
    def from_url(cls, url: str | None, max_connections: int = 50) -> Store:
        """Connect to ``url`` (or the in-process store when empty)."""
        client, kind = connect(url, max_connections)
        return cls(client, kind)

    # -- keys ---------------------------------------------------------------
    @staticmethod
    def session_key(code: str) -> str:
        return f"bg:s:{code}"

    @staticmethod
    def team_key(code: str, team: int, part: str = "") -> str:
        return f"bg:s:{code}:t:{team}" + (f":{part}" if part else "")

    @staticmethod
    def token_key(token_hash: str) -> str:
        return f"bg:tok:{token_hash}"

    def _session_keys(self, code: str, teams: int) -> list[str]:
        """Every key of a session except the seat tokens."""
        keys = [self.session_key(code), f"bg:s:{code}:seen"]
        for n in range(1, teams + 1):
            keys.append(self.team_key(code, n))
            keys += [self.team_key(code, n, p) for p in ("dec", "weeks", "seats", "humans", "forced")]
        return keys

    # -- health ---------------------------------------------------------------
    def reachable(self) -> bool:
        """True when the store answers a ping."""
        try:
            return bool(self.r.ping())
        except (redis.RedisError, OSError):
            return False

    # -- sessions ---------------------------------------------------------------
    def create_session(self, code: str, session: SessionRecord, created: float, teams: list[Team], ttl: int) -> bool:
        """Write a new session and its teams (each with its state and bounds); False when the code is taken."""
        skey = self.session_key(code)
        if not self.r.hsetnx(skey, "created", f"{created:.3f}"):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(skey, mapping=_session_hash(session))
        for n, team in enumerate(teams, 1):
            pipe.hset(self.team_key(code, n), mapping=_team_hash(team))
        pipe.sadd(SESSIONS, code)
        for key in self._session_keys(code, len(teams)):
            pipe.expire(key, ttl)
        pipe.execute()
        # expire() on keys that do not exist yet is a no-op: the keys created
        # later copy the TTL of the team or session hash when they are written.
        return True

    def session(self, code: str) -> SessionRecord | None:
        """The session (None when unknown or expired)."""
        return _session(self.r.hgetall(self.session_key(code)))

    def set_session(
        self,
        code: str,
        *,
        status: str | None = None,
        started: float | None = None,
        round_seconds: int | None = None,
        end_revealed: bool | None = None,
    ) -> None:
        """Change the given fields of a session (status, start time, round timer, the last week revealed)."""
        fields: dict[str, str] = {}
        if status is not None:
            fields["status"] = status
        if started is not None:
            fields["started"] = f"{started:.3f}"
        if round_seconds is not None:
            fields["round_seconds"] = str(int(round_seconds))
        if end_revealed is not None:
            fields["end_revealed"] = "1" if end_revealed else "0"
        if fields:
            self.r.hset(self.session_key(code), mapping=fields)

    def codes(self) -> list[str]:
        """Codes of live sessions (drops the ones that expired)."""
        codes = sorted(self.r.smembers(SESSIONS))
        if not codes:
            return []
        pipe = self.r.pipeline(transaction=False)
        for c in codes:
            pipe.exists(self.session_key(c))
        alive = pipe.execute()
        gone = [c for c, a in zip(codes, alive, strict=True) if not a]
        if gone:
            self.r.srem(SESSIONS, *gone)
        return [c for c, a in zip(codes, alive, strict=True) if a]

    def touch(self, code: str, teams: int, ttl: int) -> None:
        """Reset the expiry of every key of a session (and its seat tokens)."""
        pipe = self.r.pipeline(transaction=False)
        for key in self._session_keys(code, teams):
            pipe.expire(key, ttl)
        for n in range(1, teams + 1):
            for seat in self.seats(code, n).values():
                for player in seat.players:
                    pipe.expire(self.token_key(player.token), ttl)
        pipe.execute()

    # -- teams ------------------------------------------------------------------
    def _team(self, key: str, raw: dict[str, str]) -> Team:
        """A team from the fields of its hash that were read (the state parsed once per change)."""
        text = raw.get("state")
        return _team(raw, None if text is None else self._state(key, text))

    def _state(self, key: str, text: str) -> GameState:
        """The ``GameState`` stored as ``text`` under ``key``, parsed once per change: the engine and
        the views never change their input, so every reader of the same state shares one."""
        hit = self._states.get(key)
        if hit is not None and hit[0] == text:
            return hit[1]
        if len(self._states) > STATE_LIMIT:
            self._states.clear()
        state = GameState.from_dict(json.loads(text))
        self._states[key] = (text, state)
        return state

    def _seat(self, text: str) -> Seat:
        """A seat from its JSON text (parsed once: the dashboard reads every seat each tick)."""
        hit = self._seats.get(text)
        if hit is None:
            if len(self._seats) > 20_000:
                self._seats.clear()
            doc = json.loads(text)
            hit = self._seats[text] = Seat((_player(doc), *map(_player, doc.get("shared", ()))))
        return hit

    def team(self, code: str, team: int) -> Team | None:
        """Everything of a team's hash (None when there is no such team)."""
        key = self.team_key(code, team)
        raw = self.r.hgetall(key)
        return self._team(key, raw) if raw else None

    def set_advanced_at(self, code: str, team: int, at: float) -> None:
        """When a team's week last advanced (or the game started or resumed): the bot pacing counts from it."""
        self.r.hset(self.team_key(code, team), "advanced_at", f"{at:.3f}")

    def set_deal(self, code: str, team: int, deal: bool, by: str = "") -> None:
        """A team's co-makership deal (offered or not) and who chose it."""
        self.r.hset(self.team_key(code, team), mapping={"deal": _flag(deal), "deal_by": by})

    def weeks(self, code: str, team: int, start: int = 0) -> list[WeekEntry]:
        """The team's week records from index ``start`` on."""
        return [json.loads(x) for x in self.r.lrange(self.team_key(code, team, "weeks"), start, -1)]

    def seats(self, code: str, team: int) -> dict[str, Seat]:
        """A team's taken seats: role -> seat."""
        raw = self.r.hgetall(self.team_key(code, team, "seats"))
        return {role: self._seat(v) for role, v in raw.items()}

    def forced(self, code: str, team: int) -> set[str]:
        return set(self.r.smembers(self.team_key(code, team, "forced")))

    def team_snapshot(
        self, code: str, team: int, weeks_from: int | None = None, session: bool = False
    ) -> TeamSnapshot | None:
        """Team hash, decisions, seats, humans and forced roles in one round trip, with
        the session's ``round_seconds`` and ``status`` (``session``: the whole session record),
        and (``weeks_from``) the week records from that index. None when there is no such team."""
        key = self.team_key(code, team)
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.hgetall(self.team_key(code, team, "dec"))
        pipe.hgetall(self.team_key(code, team, "seats"))
        pipe.smembers(self.team_key(code, team, "humans"))
        pipe.smembers(self.team_key(code, team, "forced"))
        if session:
            pipe.hgetall(self.session_key(code))
        else:
            pipe.hmget(self.session_key(code), "round_seconds", "status")
        if weeks_from is not None:
            pipe.lrange(self.team_key(code, team, "weeks"), weeks_from, -1)
        t, dec, seats, humans, forced, sess, *weeks = pipe.execute()
        if not t:
            return None
        rs, status = (sess.get("round_seconds"), sess.get("status")) if session else sess
        decisions = {k: int(v) for k, v in dec.items()}
        return TeamSnapshot(
            self._team(key, t),
            dec=decisions,
            decided=set(decisions),
            seats={r: self._seat(v) for r, v in seats.items()},
            taken=set(seats),
            humans=set(humans),
            forced=set(forced),
            round_seconds=int(rs or 0),
            status=status or "",
            weeks=[json.loads(x) for x in weeks[0]] if weeks_from is not None else None,
            session=_session(sess) if session else None,
        )

    def teams(
        self, code: str, teams: Iterable[int], fields: Sequence[str], parts: Sequence[str] = ()
    ) -> list[TeamSnapshot]:
        """The hash ``fields`` (the rest of ``team`` keeps its defaults) and the ``parts`` of each
        of ``teams`` (``TEAM_PARTS``: ``dec`` the decisions, ``decided`` and ``taken`` the roles
        that decided and that have a seat, ``seats``, ``humans``, ``forced``), in order, in one call
        (``teams.lua``): a class costs one round trip."""
        letters = "".join(TEAM_PARTS[p][0] for p in parts)
        keys: list[str] = []
        for n in teams:
            keys.append(self.team_key(code, n))
            keys += [self.team_key(code, n, TEAM_PARTS[p][1]) for p in parts]
        if not keys:
            return []
        out = []
        per = len(parts) + 1
        for i, row in enumerate(self._run(self._teams, keys, [letters, *fields])):
            raw = {f: v for f, v in zip(fields, row[0], strict=True) if v is not None}
            snap = TeamSnapshot(self._team(keys[i * per], raw))
            for part, reply in zip(parts, row[1:], strict=True):
                if part == "dec":
                    snap.dec = {k: int(v) for k, v in _pairs(reply).items()}
                    snap.decided = set(snap.dec)
                elif part == "seats":
                    snap.seats = {r: self._seat(v) for r, v in _pairs(reply).items()}
                    snap.taken = set(snap.seats)
                else:
                    setattr(snap, part, set(reply))
            out.append(snap)
        return out

    # -- seats ------------------------------------------------------------------
    def claim_seat(self, code: str, team: int, role: str, player: Player, ttl: int) -> bool:
        """Seat ``player`` on a free seat atomically; False when someone holds it."""
        key = self.team_key(code, team, "seats")
        if not self.r.hsetnx(key, role, _seat_json(Seat((player,)))):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.token_key(player.token), _where_json(code, team, role), ex=ttl)
        pipe.expire(key, ttl)
        pipe.execute()
        return True

    def share_seat(self, code: str, team: int, role: str, player: Player, ttl: int) -> bool:
        """Add ``player`` to a taken seat (they play it together, any of them decides);
        False when the seat is free or full (``Seat.full``)."""
        key = self.team_key(code, team, "seats")
        for _ in range(5):  # another player joined the seat meanwhile: read it again
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, role)
                    if raw is None or self._seat(raw).full:
                        return False
                    seat = Seat((*self._seat(raw).players, player))
                    pipe.multi()
                    pipe.hset(key, role, _seat_json(seat))
                    pipe.set(self.token_key(player.token), _where_json(code, team, role), ex=ttl)
                    pipe.expire(key, ttl)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue
        return False

    def token(self, token_hash: str) -> SeatRef | None:
        """Where the seat token with hash ``token_hash`` leads (None: unknown or expired)."""
        raw = self.r.get(self.token_key(token_hash))
        if not raw:
            return None
        where = json.loads(raw)
        return SeatRef(where["code"], int(where["team"]), where["role"])

    def set_human(self, code: str, team: int, role: str, human: bool, ttl: int) -> bool:
        """Add ``role`` to (or remove it from) the humans set; True when that changed it."""
        key = self.team_key(code, team, "humans")
        if human:
            changed = self.r.sadd(key, role)
            self.r.expire(key, ttl)
            return bool(changed)
        return bool(self.r.srem(key, role))

    def set_forced(self, code: str, team: int, role: str, forced: bool, ttl: int) -> None:
        key = self.team_key(code, team, "forced")
        if forced:
            self.r.sadd(key, role)
            self.r.expire(key, ttl)
        else:
            self.r.srem(key, role)

    def mark_seen(self, code: str, seats: list[tuple[int, str]], now: float, closed: bool = False) -> None:
        """Record that connections hold these seats now (``closed``: the last connection
        of each just closed; it still counts as seen now, for the grace period). One
        field per seat: the time, followed by ``closed`` when its last connection closed,
        so that marking a seat seen again clears that too."""
        value = f"{now:.3f} closed" if closed else f"{now:.3f}"
        for i in range(0, len(seats), SEEN_BATCH):  # a script's arguments are unpacked onto Lua's stack
            args = [x for t, r in seats[i : i + SEEN_BATCH] for x in (f"{t}:{r}", value)]
            self._run(self._seen, [f"bg:s:{code}:seen", self.session_key(code)], args)

    def seen(self, code: str) -> dict[tuple[int, str], float]:
        """When a connection last held each seat."""
        return self.presence(code)[0]

    def presence(self, code: str) -> Presence:
        """``seen()`` and the seats whose last connection closed since (no connection holds them)."""
        seen, closed = {}, set()
        for k, v in self.r.hgetall(f"bg:s:{code}:seen").items():
            t, _, role = k.partition(":")
            if ":" in role:
                continue  # a flag of the earlier layout ("{n}:{role}:closed"): the time alone tells
            when, _, flag = v.partition(" ")
            seat = (int(t), role)
            seen[seat] = float(when)
            if flag:
                closed.add(seat)
        return seen, closed

    # -- rounds -----------------------------------------------------------------
    def submit(self, code: str, team: int, week: int, role: str, value: int) -> Submitted:
        """Run ``submit.lua`` (one round trip): check the decision against the bounds stored
        with the team's state and record it."""
        keys = [
            self.session_key(code),
            self.team_key(code, team),
            self.team_key(code, team, "dec"),
            self.team_key(code, team, "humans"),
        ]
        status, *rest = self._run(self._submit, keys, [week, role, value])
        out = Submitted(str(status))
        if out.status == "not_running":
            out.session_status = rest[0]
        elif out.status == "stale_week":
            out.week = int(rest[0] or 0)
        elif out.status == "out_of_bounds":
            out.bounds = (int(float(rest[0])), int(float(rest[1])))
        elif out.status == "ok":
            out.week, out.decided, out.humans = int(rest[0]), set(rest[1]), set(rest[2])
            out.previous = int(rest[3]) if rest[3] else None
        return out

    def commit(
        self,
        code: str,
        team: int,
        before: TeamSnapshot,
        new: Team,
        record: WeekEntry,
        next_round_seconds: float | None,
        now: float,
        ttl: int | None = None,
    ) -> Committed:
        """Run ``commit.lua``: write ``new`` (the team's next state with its bounds, bot memory
        and done flag) and the week's ``record``, if the team is still as ``before`` (the same
        week, not done, and no decision recorded or changed since its ``dec_rev``). ``result``:
        1 written, 0 already advanced by another caller, -1 read again. ``ttl``: renew the expiry
        of the session hash and every key of the team, and of its seats' tokens, in the same call."""
        keys = [
            self.session_key(code),
            self.team_key(code, team),
            self.team_key(code, team, "dec"),
            self.team_key(code, team, "weeks"),
            DEADLINES,
            self.team_key(code, team, "seats"),
            self.team_key(code, team, "humans"),
        ]
        if ttl is not None:
            keys += [f"bg:s:{code}:seen", self.team_key(code, team, "forced")]
            keys += [self.token_key(p.token) for seat in before.seats.values() for p in seat.players]
        assert new.state is not None
        written = _state_fields(new.state, new.bounds)
        record_text, memory_text, at = json.dumps(record), json.dumps(new.memory), f"{now:.3f}"
        args = [
            before.team.week,
            before.team.dec_rev,
            written["week"],
            written["state"],
            record_text,
            memory_text,
            _flag(new.done),
            "" if next_round_seconds is None else f"{next_round_seconds:.3f}",
            at,
            f"{code}:{team}",
            written["bounds"],
            "" if ttl is None else str(int(ttl)),
        ]
        result, *rest = self._run(self._commit, keys, args)
        out = Committed(int(result))
        if out.result == 1:
            deadline, raw_seats, humans = rest
            after = replace(
                new,
                state=self._state(self.team_key(code, team), written["state"]),
                deadline=_num(deadline),
                remaining=None,
                advanced_at=float(at),
                dec_rev=before.team.dec_rev,
            )
            seats = {r: self._seat(v) for r, v in _pairs(raw_seats).items()}
            stored = json.loads(record_text)
            out.snapshot = replace(before, team=after, dec={}, decided=set(), seats=seats, taken=set(seats),
                                   humans=set(humans), weeks=None, weeks_count=stored["week"],
                                   last_record=stored)  # fmt: skip
        return out

    def replace_state(self, code: str, team: int, week: int, new: Team, by: str = "") -> bool:
        """Swap a team's state (with its bounds), CODP and web shop mode within its current week
        (a strategy review), clearing the week's decisions; ``by``: who chose (``codp_by``).
        Optimistic: False when the week moved on or a decision arrived meanwhile (WATCH on the
        team hash and its decisions)."""
        assert new.state is not None
        key, dec = self.team_key(code, team), self.team_key(code, team, "dec")
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key, dec)
                week_now, done = pipe.hmget(key, "week", "done")
                if week_now != str(week) or done == "1":
                    return False
                pipe.multi()
                fields = {**_state_fields(new.state, new.bounds), "codp": new.codp or "", "shop": new.shop or ""}
                pipe.hset(key, mapping={**fields, "codp_by": by})
                pipe.delete(dec)
                pipe.hincrby(key, "dec_rev", 1)  # a week computed from the old state is not written
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def restart_team(self, code: str, team: int, new: Team, by: str = "") -> None:
        """Give a team a new game before the start (its strategy chosen again; ``by``: who chose),
        every field of its hash as a new team has it, the name kept."""
        fields = _team_hash(new)
        del fields["name"]
        self.r.hset(self.team_key(code, team), mapping={**fields, "codp_by": by})

    def set_deadline(self, code: str, team: int, deadline: float | None, remaining: float | None = None) -> None:
        """Set (or clear) a team's round deadline and the time kept while paused."""
        member = f"{code}:{team}"
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            self.team_key(code, team),
            mapping={
                "deadline": "" if deadline is None else f"{deadline:.3f}",
                "remaining": "" if remaining is None else f"{remaining:.3f}",
            },
        )
        if deadline is None:
            pipe.zrem(DEADLINES, member)
        else:
            pipe.zadd(DEADLINES, {member: deadline})
        pipe.execute()

    def due(self, now: float) -> list[tuple[str, int]]:
        """Teams whose round deadline has passed."""
        out = []
        for member in self.r.zrangebyscore(DEADLINES, "-inf", now):
            code, _, team = member.rpartition(":")
            out.append((code, int(team)))
        return out

    def drop_deadline(self, code: str, team: int) -> None:
        """Forget a team's deadline (its session is gone)."""
        self.r.zrem(DEADLINES, f"{code}:{team}")

    def drop_deadlines(self, code: str, teams: int) -> None:
        self.r.zrem(DEADLINES, *[f"{code}:{n}" for n in range(1, teams + 1)])

    # -- the ticker's lease -------------------------------------------------------
    def renew_lease(self, holder: str, ms: int) -> bool:
        """Take the ticker lease when it is free, keep it when ``holder`` holds it; whether it does now."""
        return bool(int(self._renew(keys=[LEADER], args=[holder, ms])))

    def release_lease(self, holder: str) -> None:
        """Give the lease up if ``holder`` holds it."""
        self._release(keys=[LEADER], args=[holder])
