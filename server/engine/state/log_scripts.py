"""The Lua scripts of the Redis log (`redis_log.py`): each change to a session's keys in one
atomic step. Sent by their SHA-1; the writer loads them when Redis says it lacks one."""

from __future__ import annotations

import hashlib

# No KEYS. ARGV: this instance, the records (`pack_appends`). Answers {refused, lost}: the
# sessions another instance owns (or that were closed), and those whose hash is gone (Redis
# restarted empty, or it expired): written anyway, and the writer writes their hash again.
APPEND_MANY = """
local owned, refused, lost = {}, {}, {}
local blob, pos = ARGV[2], 1
while pos <= #blob do
  local sid, minid, seq, data
  sid, minid, seq, data, pos = struct.unpack('>Hc0>I8>I8>I4c0', blob, pos)
  local mine = owned[sid]
  if mine == nil then
    local owner = redis.call('HGET', 'atelier:{' .. sid .. '}:s', 'owner')
    mine = owner == ARGV[1] or owner == false
    owned[sid] = mine
    if owner == false then table.insert(lost, sid) end
    if not mine then table.insert(refused, sid) end
  end
  if mine then
    -- Refused only for an id not above the stream's last: this owner stored it already (a
    -- batch sent again after a lost connection), so it is skipped, not a refusal.
    local stream = 'atelier:{' .. sid .. '}:l'
    local id = string.format('%d-0', seq)
    redis.pcall('XADD', stream, 'MINID', string.format('%d', minid), id, 'd', data)
  end
end
return {refused, lost}
"""
# KEYS: hash, stream. ARGV: secret hash, owner key, cookie-less ("1"), this instance, seconds.
CREATE = """
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'key', ARGV[2], 'anon', ARGV[3], 'owner', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
# KEYS: hash, stream. ARGV: this instance, seconds to keep.
TOUCH = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""
# KEYS: hash, stream. ARGV: this instance, seconds to keep the tombstone. The hash stays, with
# no owner and no secret, so that an instance still holding a copy learns it ended (a gone
# hash would read as lost, and be written again).
DROP = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', '', 'secret', '')
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
#: Seconds a closed session's tombstone is kept (longer than any copy of it lives elsewhere).
TOMBSTONE_TTL = 24 * 3600

#: The Lua scripts, by name (sent by their SHA-1; loaded when Redis says it lacks one).
SCRIPTS = {"create": CREATE, "append": APPEND_MANY, "touch": TOUCH, "drop": DROP}
SHA = {name: hashlib.sha1(text.encode()).hexdigest() for name, text in SCRIPTS.items()}
