-- Record one player's decision for one week, atomically, in one round trip.
-- KEYS: 1 session hash, 2 team hash, 3 decisions hash, 4 humans set
-- ARGV: 1 week the decision is meant for, 2 role, 3 value
-- The value is checked against the bounds stored with the team's state (every state is
-- written with its bounds). A seat may decide again until the week closes: the new value
-- replaces the earlier one, and every recorded decision (new or changed) bumps the team's
-- 'dec_rev', which commit.lua compares, so a week computed from the decisions as they were
-- before a change is never written.
-- Returns {status, ...}: status 'ok' or an error code. Then:
--   'not_running': the session's status ('' for no session); 'done', 'forbidden':
--   nothing; 'stale_week': the team's week; 'out_of_bounds': lo, hi;
--   'ok': the week, the roles that decided it, the roles a human plays (SMEMBERS) and the
--   value this seat had decided before ('' for none).
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then
  return {'not_running', status or ''}
end
local team = redis.call('HMGET', KEYS[2], 'week', 'done', 'bounds')
if team[2] == '1' then
  return {'done'}
end
if team[1] ~= ARGV[1] then
  return {'stale_week', team[1] or ''}
end
local b = cjson.decode(team[3] or '{}')[ARGV[2]]
if b == nil then
  return {'forbidden'}
end
local value = tonumber(ARGV[3])
if value < b[1] or value > b[2] then
  return {'out_of_bounds', tostring(b[1]), tostring(b[2])}
end
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 0 then
  return {'forbidden'}
end
local before = redis.call('HGET', KEYS[3], ARGV[2]) or ''
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'dec_rev', 1)
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return {'ok', ARGV[1], redis.call('HKEYS', KEYS[3]), redis.call('SMEMBERS', KEYS[4]), before}
