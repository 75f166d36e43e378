-- Write a team's next week exactly once (compare-and-set on the week; the last
-- week keeps its number and sets done, so a finished game refuses every write).
-- KEYS: 1 session hash, 2 team hash, 3 decisions hash, 4 weeks list, 5 deadlines zset,
--       6 seats hash, 7 humans set, 8... further keys whose expiry is renewed with the
--       team's (the seen hash, forced set, seat tokens)
-- ARGV: 1 expected week, 2 the team's 'dec_rev' as read with the decisions ('' or '0': none yet), 3 new week, 4 state json,
--       5 week record json, 6 memory json, 7 done '0'|'1', 8 seconds to the next
--       deadline ('' for none), 9 now (epoch seconds), 10 deadlines member,
--       11 the new state's decision bounds json (written with every state), 12 seconds every key
--       of the team (and the session hash) now lives ('' to leave them)
-- Returns {1, deadline, seats, humans} when written (the deadline as stored, '' for
-- none; the seats hash and humans set as HGETALL and SMEMBERS give them), {0} when
-- another caller already advanced this week (or the session is not running), {-1}
-- when a decision arrived or changed after the caller read them (read again).
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  return {0}
end
local current = redis.call('HMGET', KEYS[2], 'week', 'done')
if current[1] ~= ARGV[1] or current[2] == '1' then
  return {0}
end
if (tonumber(redis.call('HGET', KEYS[2], 'dec_rev')) or 0) ~= (tonumber(ARGV[2]) or 0) then
  return {-1}
end
local deadline = ''
if ARGV[8] ~= '' and ARGV[7] == '0' then
  deadline = tostring(tonumber(ARGV[9]) + tonumber(ARGV[8]))
end
redis.call('HSET', KEYS[2], 'week', ARGV[3], 'state', ARGV[4], 'bounds', ARGV[11], 'memory', ARGV[6],
  'done', ARGV[7], 'deadline', deadline, 'remaining', '', 'advanced_at', ARGV[9])
redis.call('RPUSH', KEYS[4], ARGV[5])
redis.call('DEL', KEYS[3])
if deadline == '' then
  redis.call('ZREM', KEYS[5], ARGV[10])
else
  redis.call('ZADD', KEYS[5], deadline, ARGV[10])
end
if ARGV[12] ~= '' then
  local ms = math.floor(tonumber(ARGV[12]) * 1000)
  redis.call('PEXPIRE', KEYS[1], ms)
  redis.call('PEXPIRE', KEYS[2], ms)
  for i = 6, #KEYS do
    redis.call('PEXPIRE', KEYS[i], ms)
  end
end
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[4], ttl)
end
return {1, deadline, redis.call('HGETALL', KEYS[6]), redis.call('SMEMBERS', KEYS[7])}
