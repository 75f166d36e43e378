-- Read the same parts of many teams in one call (the ticker's walk, dashboard rows,
-- the ranking, the public session info), atomically.
-- KEYS: for each team its hash, followed by one key per letter of ARGV[1]
-- ARGV: 1 the parts after the hash, one letter each: 'd' decisions (HGETALL), 'k' the
--       roles that decided (HKEYS of the decisions), 's' seats (HGETALL), 'r' the roles
--       with a seat (HKEYS of the seats), 'm' members of a set (humans, forced);
--       2... the fields of the team hash to return (HMGET)
-- Returns one array per team: {the fields, then each part's reply}.
local parts = ARGV[1]
local per = #parts + 1
local fields = {}
for i = 2, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local out = {}
for t = 1, #KEYS, per do
  local row = {redis.call('HMGET', KEYS[t], unpack(fields))}
  for j = 1, #parts do
    local p, key = string.sub(parts, j, j), KEYS[t + j]
    if p == 'd' or p == 's' then
      row[#row + 1] = redis.call('HGETALL', key)
    elseif p == 'k' or p == 'r' then
      row[#row + 1] = redis.call('HKEYS', key)
    else
      row[#row + 1] = redis.call('SMEMBERS', key)
    end
  end
  out[#out + 1] = row
end
return out
