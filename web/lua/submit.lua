-- Record one player's decision for one week, atomically.
-- KEYS: 1 session hash, 2 team hash, 3 decisions hash, 4 humans set
-- ARGV: 1 week the decision is meant for, 2 role, 3 value
-- Returns {status, complete}: status 'ok' or an error code; complete = 1 when
-- every seat a human plays has now decided this week.
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  return {'not_running', 0}
end
local team = redis.call('HMGET', KEYS[2], 'week', 'done')
if team[2] == '1' then
  return {'not_running', 0}
end
if team[1] ~= ARGV[1] then
  return {'stale_week', 0}
end
if redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 0 then
  return {'forbidden', 0}
end
if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3]) == 0 then
  return {'already_decided', 0}
end
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
end
for _, role in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if redis.call('HEXISTS', KEYS[3], role) == 0 then
    return {'ok', 0}
  end
end
return {'ok', 1}
