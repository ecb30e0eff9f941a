-- Pauses a BullMQ queue for every worker, never shortening a longer pause already in place.
--
-- Contract:
--   KEYS[1]  the queue's limiter key (`<prefix>:<queue>:limiter`). BullMQ uses it two ways: as the
--            per-window counter of its own limiter (a small number with the window's PX expiry), and,
--            through `queue.rateLimit(ms)`, as a pause (the counter set to ARGV[2] with a PX expiry).
--            While it holds a value at or above the limiter's max, workers take no jobs from the queue.
--   ARGV[1]  pause length in ms
--   ARGV[2]  the counter value that marks a pause (Number.MAX_SAFE_INTEGER, as BullMQ's rateLimit sets)
-- Returns the pause now in force in ms: the new one, or a longer pause that was already set. An
-- ordinary window counter is not a pause, whatever its remaining time: it is replaced by the pause.
-- Doing the comparison and the write in one script is what keeps two replicas that hit 429s at
-- once from cutting a 37 s pause down to 1 s.
local ms = tonumber(ARGV[1])
local value = redis.call('GET', KEYS[1])
if value == ARGV[2] then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl >= ms then
    return ttl
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
return ms
