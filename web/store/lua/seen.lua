-- Mark seats as held now, and give the seen hash the session's expiry.
-- KEYS: 1 seen hash, 2 session hash
-- ARGV: field, value, field, value, ... ("{n}:{role}" -> the time, with " closed" when
--       the seat's last connection just closed)
redis.call('HSET', KEYS[1], unpack(ARGV))
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
