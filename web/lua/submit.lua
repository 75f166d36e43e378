-- Record one player's decision for one week, atomically, in one round trip.
-- KEYS: 1 session hash, 2 team hash, 3 decisions hash, 4 humans set, 5 seats hash, 6 forced set
-- ARGV: 1 week the decision is meant for, 2 role, 3 value, 4 bounds JSON ({role: [lo, hi]})
--       the caller computed from the team's state, or '' to use the ones stored with it,
--       5 the state those bounds were computed from ('' with no bounds)
-- A seat may decide again until the week closes: the new value replaces the earlier one,
-- and every recorded decision (new or changed) bumps the team's 'dec_rev', which
-- commit.lua compares, so a week computed from the decisions as they were before a
-- change is never written.
-- Returns {status, complete, ...}: status 'ok' or an error code, complete = 1 when every
-- seat a human plays has now decided this week. Then:
--   'not_running': the session's status ('' for no session); 'done', 'forbidden':
--   nothing; 'stale_week': the team's week; 'out_of_bounds': lo, hi;
--   'bounds': nothing stored and none given, or given for another state (compute and retry);
--   'ok': the week, the roles that decided it, the value this seat had decided before
--   ('' for none), and when complete the team as the round
--   needs it: the team hash, the decisions, seats, humans and forced roles (HGETALL and
--   SMEMBERS replies) and the session's config, round_seconds and status.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  return {'not_running', 0, status or ''}
end
local team = redis.call('HMGET', KEYS[2], 'week', 'done', 'bounds')
if team[2] == '1' then
  return {'done', 0}
end
if team[1] ~= ARGV[1] then
  return {'stale_week', 0, team[1] or ''}
end
local bounds = team[3]
if not bounds then
  -- bounds computed by the caller count only for the state they were computed from
  if ARGV[4] == '' or redis.call('HGET', KEYS[2], 'state') ~= ARGV[5] then
    return {'bounds', 0}
  end
  bounds = ARGV[4]
  redis.call('HSET', KEYS[2], 'bounds', bounds)
end
local b = cjson.decode(bounds)[ARGV[2]]
if b == nil then
  return {'forbidden', 0}
end
local value = tonumber(ARGV[3])
if value < b[1] or value > b[2] then
  return {'out_of_bounds', 0, tostring(b[1]), tostring(b[2])}
end
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 0 then
  return {'forbidden', 0}
end
local before = redis.call('HGET', KEYS[3], ARGV[2]) or ''
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'dec_rev', 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
end
local decided = redis.call('HKEYS', KEYS[3])
for _, role in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if redis.call('HEXISTS', KEYS[3], role) == 0 then
    return {'ok', 0, ARGV[1], decided, before}
  end
end
return {'ok', 1, ARGV[1], decided, before, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]),
  redis.call('HGETALL', KEYS[5]), redis.call('SMEMBERS', KEYS[4]), redis.call('SMEMBERS', KEYS[6]),
  redis.call('HMGET', KEYS[1], 'config', 'round_seconds', 'status')}
