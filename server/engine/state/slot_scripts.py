"""The Lua scripts of `redis_slots`: each change of a pool's leases is one atomic call.

Times are Redis's own milliseconds (`TIME`), so the instances' clocks never matter; a lease
that ran out is swept by the next call that looks at its pool.
"""

from __future__ import annotations

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: the pool's leases, its waiters (score: first ask, us), their liveness (score: expiry).
# ARGV: member, the pool's slots, lease ms, channel, pool, waiter ms. A free slot goes to the
# waiters in the order they first asked, across instances: an asker that is not among the
# first `free` of them is refused and (still) waits; a waiter that stops asking (its instance
# died) drops out after `waiter ms`. Answers {1, 0} (taken) or {0, ms until the earliest lease
# runs out}.
ACQUIRE = (
    _NOW
    + """
local swept = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
if free > 0 then
  local rank = redis.call('ZRANK', KEYS[2], ARGV[1]) or redis.call('ZCARD', KEYS[2])
  if rank < free then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
    if swept > 0 and free > 1 then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
    return {1, 0}
  end
end
-- first ask in microseconds: two asks a round trip apart never tie (milliseconds did)
redis.call('ZADD', KEYS[2], 'NX', tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if free > 0 then  -- waiters before it take the slot; or one drops out: ask again then
  local soonest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(soonest[2]) - now)}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(0, tonumber(first[2]) - now)}
"""
)
# KEYS: as ACQUIRE's. ARGV: member, channel, pool. A lease given back, or a waiter that gave
# up (it may have stood before the others): they are told.
RELEASE = """
local gone = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if gone == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""
# KEYS: the pool's set. ARGV: lease ms, the pool's slots, this instance's members. A member
# that ran out is taken back if there is room; answers the ones that could not be.
RENEW = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lost = {}
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return lost
"""
)
# KEYS: the pool's set. Answers the leases that have not run out.
HELD = _NOW + "return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')"
