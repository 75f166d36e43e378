-- Write a team's next week exactly once (compare-and-set on the week; the last
-- week keeps its number and sets done, so a finished game refuses every write).
-- KEYS: 1 session hash, 2 team hash, 3 decisions hash, 4 weeks list, 5 deadlines zset
-- ARGV: 1 expected week, 2 number of decisions read, 3 new week, 4 state json,
--       5 week record json, 6 memory json, 7 done '0'|'1', 8 seconds to the next
--       deadline ('' for none), 9 now (epoch seconds), 10 deadlines member
-- Returns 1 when written, 0 when another caller already advanced this week (or
-- the session is not running), -1 when a decision arrived after the caller read
-- them (read again).
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  return 0
end
local current = redis.call('HMGET', KEYS[2], 'week', 'done')
if current[1] ~= ARGV[1] or current[2] == '1' then
  return 0
end
if redis.call('HLEN', KEYS[3]) ~= tonumber(ARGV[2]) then
  return -1
end
local deadline = ''
if ARGV[8] ~= '' and ARGV[7] == '0' then
  deadline = tostring(tonumber(ARGV[9]) + tonumber(ARGV[8]))
end
redis.call('HSET', KEYS[2], 'week', ARGV[3], 'state', ARGV[4], 'memory', ARGV[6], 'done', ARGV[7],
  'deadline', deadline, 'remaining', '', 'advanced_at', ARGV[9])
redis.call('RPUSH', KEYS[4], ARGV[5])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[4], ttl)
end
redis.call('DEL', KEYS[3])
if deadline == '' then
  redis.call('ZREM', KEYS[5], ARGV[10])
else
  redis.call('ZADD', KEYS[5], deadline, ARGV[10])
end
return 1
