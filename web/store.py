"""Redis store: every byte of game state, under one documented key scheme.

Key scheme (``{code}`` = join code, ``{n}`` = team number from 1; the full
table with every field is in docs/ARCHITECTURE.md):

- ``bg:sessions`` set of live codes; ``bg:deadlines`` zset ``"{code}:{n}"`` -> deadline
- ``bg:s:{code}`` hash: config JSON, secret hash, status, round_seconds
- ``bg:s:{code}:t:{n}`` hash: week, state JSON, bot memory JSON, done, codp, name,
  deadline, remaining (while paused), advanced_at
- ``bg:s:{code}:t:{n}:dec`` hash role -> this week's human decision
- ``bg:s:{code}:t:{n}:weeks`` list of week records (``GameResult.weeks`` shape)
- ``bg:s:{code}:t:{n}:seats`` hash role -> ``{"name", "token" (SHA-256), "joined"}``
- ``bg:s:{code}:t:{n}:humans`` / ``:forced`` sets of roles a human plays / the
  facilitator gave to a bot
- ``bg:s:{code}:seen`` hash ``"{n}:{role}"`` -> when a connection last held the seat
- ``bg:tok:{sha256 of token}`` JSON ``{"code", "team", "role"}``

Everything of a session expires ``IDLE_TTL_SECONDS`` after its last round and
``GAME_TTL_SECONDS`` after it is over.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import redis

log = logging.getLogger(__name__)

LUA_DIR = Path(__file__).resolve().parent / "lua"
SESSIONS = "bg:sessions"
DEADLINES = "bg:deadlines"
# what an unreachable (or still loading) store raises: answered with ``unavailable``
STORE_DOWN: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)


def digest(secret: str) -> str:
    """SHA-256 hex of a secret or token (only hashes are stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def connect(url: str | None, max_connections: int = 50) -> tuple[redis.Redis, str]:
    """A Redis client for ``url`` and the store kind (``redis``), or an in-process
    fakeredis with Lua (``memory``) when ``url`` is empty.

    The pool blocks (up to 30 s) when all ``max_connections`` are busy: with
    gevent, hundreds of handlers may want Redis at the same moment, and they
    should queue for a connection rather than fail."""
    if url:
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=30, decode_responses=True, health_check_interval=30
        )
        return redis.Redis(connection_pool=pool), "redis"
    import fakeredis

    return fakeredis.FakeRedis(decode_responses=True), "memory"


class Store:
    """Typed access to the key scheme above, plus the atomic Lua scripts."""

    def __init__(self, client: redis.Redis, kind: str = "redis") -> None:
        self.r = client
        self.kind = kind
        self._submit = client.register_script((LUA_DIR / "submit.lua").read_text())
        self._commit = client.register_script((LUA_DIR / "commit.lua").read_text())

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

    def session_keys(self, code: str, teams: int) -> list[str]:
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
    def create_session(self, code: str, meta: dict[str, Any], teams: list[dict[str, Any]], ttl: int) -> bool:
        """Write a new session and its teams; False when the code is taken."""
        skey = self.session_key(code)
        if not self.r.hsetnx(skey, "created", meta["created"]):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(skey, mapping={k: v for k, v in meta.items() if k != "created"})
        for n, team in enumerate(teams, 1):
            pipe.hset(self.team_key(code, n), mapping=team)
        pipe.sadd(SESSIONS, code)
        for key in self.session_keys(code, len(teams)):
            pipe.expire(key, ttl)
        pipe.execute()
        # expire() on keys that do not exist yet is a no-op: the keys created
        # later copy the TTL of the team or session hash when they are written.
        return True

    def session(self, code: str) -> dict[str, str]:
        """The session hash (empty when unknown or expired)."""
        return self.r.hgetall(self.session_key(code))

    def set_session(self, code: str, **fields: Any) -> None:
        self.r.hset(self.session_key(code), mapping={k: str(v) for k, v in fields.items()})

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
        for key in self.session_keys(code, teams):
            pipe.expire(key, ttl)
        for n in range(1, teams + 1):
            for seat in self.seats(code, n).values():
                pipe.expire(self.token_key(seat["token"]), ttl)
        pipe.execute()

    def touch_team(self, code: str, team: int, ttl: int, seats: dict[str, dict[str, Any]] | None = None) -> None:
        """Reset the expiry of the session hash and one team's keys and tokens (after its round);
        ``seats`` (as ``seats()`` returns them) saves reading them."""
        pipe = self.r.pipeline(transaction=False)
        pipe.expire(self.session_key(code), ttl)
        pipe.expire(f"bg:s:{code}:seen", ttl)
        pipe.expire(self.team_key(code, team), ttl)
        for part in ("dec", "weeks", "seats", "humans", "forced"):
            pipe.expire(self.team_key(code, team, part), ttl)
        for seat in (self.seats(code, team) if seats is None else seats).values():
            pipe.expire(self.token_key(seat["token"]), ttl)
        pipe.execute()

    # -- teams ------------------------------------------------------------------
    def team(self, code: str, team: int) -> dict[str, str]:
        return self.r.hgetall(self.team_key(code, team))

    def set_team(self, code: str, team: int, **fields: Any) -> None:
        self.r.hset(self.team_key(code, team), mapping={k: str(v) for k, v in fields.items()})

    def decisions(self, code: str, team: int) -> dict[str, int]:
        return {k: int(v) for k, v in self.r.hgetall(self.team_key(code, team, "dec")).items()}

    def weeks(self, code: str, team: int, start: int = 0) -> list[dict[str, Any]]:
        """The team's week records from index ``start`` on."""
        return [json.loads(x) for x in self.r.lrange(self.team_key(code, team, "weeks"), start, -1)]

    def seats(self, code: str, team: int) -> dict[str, dict[str, Any]]:
        raw = self.r.hgetall(self.team_key(code, team, "seats"))
        return {role: json.loads(v) for role, v in raw.items()}

    def humans(self, code: str, team: int) -> set[str]:
        return set(self.r.smembers(self.team_key(code, team, "humans")))

    def forced(self, code: str, team: int) -> set[str]:
        return set(self.r.smembers(self.team_key(code, team, "forced")))

    def team_snapshot(self, code: str, team: int, weeks_from: int | None = None) -> dict[str, Any]:
        """Team hash, decisions, seats, humans and forced roles in one round trip, with
        the session's ``round_seconds`` and ``status``, and (``weeks_from``) the week records from that index."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(self.team_key(code, team))
        pipe.hgetall(self.team_key(code, team, "dec"))
        pipe.hgetall(self.team_key(code, team, "seats"))
        pipe.smembers(self.team_key(code, team, "humans"))
        pipe.smembers(self.team_key(code, team, "forced"))
        pipe.hmget(self.session_key(code), "round_seconds", "status")
        if weeks_from is not None:
            pipe.lrange(self.team_key(code, team, "weeks"), weeks_from, -1)
        t, dec, seats, humans, forced, (rs, status), *weeks = pipe.execute()
        out = {
            "team": t,
            "dec": {k: int(v) for k, v in dec.items()},
            "seats": {r: json.loads(v) for r, v in seats.items()},
            "humans": set(humans),
            "forced": set(forced),
            "round_seconds": int(rs or 0),
            "status": status or "",
        }
        if weeks_from is not None:
            out["weeks"] = [json.loads(x) for x in weeks[0]]
        return out

    def session_and_team(self, code: str, team: int) -> tuple[dict[str, str], dict[str, str]]:
        """The session hash and a team's ``week``, ``done``, ``codp``, ``shop`` and ``state`` in one round trip."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(self.session_key(code))
        names = ("week", "done", "codp", "shop", "state")
        pipe.hmget(self.team_key(code, team), *names)
        raw, fields = pipe.execute()
        return raw, {k: v for k, v in zip(names, fields, strict=True) if v is not None}

    # -- seats ------------------------------------------------------------------
    def claim_seat(self, code: str, team: int, role: str, seat: dict[str, Any], ttl: int) -> bool:
        """Take a free seat atomically; False when someone holds it."""
        key = self.team_key(code, team, "seats")
        if not self.r.hsetnx(key, role, json.dumps(seat)):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.token_key(seat["token"]), json.dumps({"code": code, "team": team, "role": role}), ex=ttl)
        pipe.expire(key, ttl)
        pipe.execute()
        return True

    def token(self, token_hash: str) -> dict[str, Any] | None:
        raw = self.r.get(self.token_key(token_hash))
        return json.loads(raw) if raw else None

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
        of each just closed; it still counts as seen now, for the grace period)."""
        if seats:
            key = f"bg:s:{code}:seen"
            pipe = self.r.pipeline(transaction=False)
            pipe.hset(key, mapping={f"{t}:{r}": f"{now:.3f}" for t, r in seats})
            if closed:
                pipe.hset(key, mapping={f"{t}:{r}:closed": "1" for t, r in seats})
            else:
                pipe.hdel(key, *[f"{t}:{r}:closed" for t, r in seats])
            pipe.pttl(self.session_key(code))
            ttl = pipe.execute()[-1]
            if ttl > 0:
                self.r.pexpire(key, ttl)

    def seen(self, code: str) -> dict[tuple[int, str], float]:
        """When a connection last held each seat."""
        return self.presence(code)[0]

    def presence(self, code: str) -> tuple[dict[tuple[int, str], float], set[tuple[int, str]]]:
        """``seen()`` and the seats whose last connection closed since (no connection holds them)."""
        seen, closed = {}, set()
        for k, v in self.r.hgetall(f"bg:s:{code}:seen").items():
            t, _, rest = k.partition(":")
            role, _, flag = rest.partition(":")
            if flag:
                closed.add((int(t), role))
            else:
                seen[(int(t), role)] = float(v)
        return seen, closed

    # -- rounds -----------------------------------------------------------------
    def submit(self, code: str, team: int, week: int, role: str, value: int) -> tuple[str, bool]:
        """Run ``submit.lua``: ``(status, complete)``."""
        keys = [
            self.session_key(code),
            self.team_key(code, team),
            self.team_key(code, team, "dec"),
            self.team_key(code, team, "humans"),
        ]
        status, complete = self._submit(keys=keys, args=[week, role, value])
        return str(status), bool(int(complete))

    def commit(
        self,
        code: str,
        team: int,
        week: int,
        n_decisions: int,
        state: dict[str, Any],
        record: dict[str, Any],
        memory: dict[str, Any],
        done: bool,
        next_round_seconds: float | None,
        now: float,
    ) -> int:
        """Run ``commit.lua``: 1 written, 0 already advanced by another caller, -1 read again."""
        keys = [
            self.session_key(code),
            self.team_key(code, team),
            self.team_key(code, team, "dec"),
            self.team_key(code, team, "weeks"),
            DEADLINES,
        ]
        args = [
            week,
            n_decisions,
            state["week"],
            json.dumps(state),
            json.dumps(record),
            json.dumps(memory),
            "1" if done else "0",
            "" if next_round_seconds is None else f"{next_round_seconds:.3f}",
            f"{now:.3f}",
            f"{code}:{team}",
        ]
        return int(self._commit(keys=keys, args=args))

    def replace_state(
        self, code: str, team: int, week: int, state: dict[str, Any], codp: str, shop: str | None = None
    ) -> bool:
        """Swap a team's state, CODP and web shop mode within its current week (a strategy review),
        clearing the week's decisions. Optimistic: False when the week moved on or a
        decision arrived meanwhile (WATCH on the team hash and its decisions)."""
        key, dec = self.team_key(code, team), self.team_key(code, team, "dec")
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key, dec)
                week_now, done = pipe.hmget(key, "week", "done")
                if week_now != str(week) or done == "1":
                    return False
                pipe.multi()
                pipe.hset(key, mapping={"state": json.dumps(state), "codp": codp, "shop": shop or ""})
                pipe.delete(dec)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

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

    def drop_deadlines(self, code: str, teams: int) -> None:
        self.r.zrem(DEADLINES, *[f"{code}:{n}" for n in range(1, teams + 1)])
