-- Pauses a BullMQ queue for every worker, never shortening a longer pause already in place.
--
-- Contract:
--   KEYS[1]  the queue's limiter key (`<prefix>:<queue>:limiter`), which BullMQ's
--            `queue.rateLimit(ms)` sets to a huge counter with a PX expiry; while it lives, workers
--            take no jobs from the queue
--   ARGV[1]  pause length in ms
--   ARGV[2]  the counter value BullMQ uses (Number.MAX_SAFE_INTEGER)
-- Returns the pause now in force in ms (the new one, or the longer one that was already set).
-- Doing the comparison and the write in one script is what keeps two replicas that hit 429s at
-- once from cutting a 37 s pause down to 1 s.
local ttl = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if ttl >= ms then
  return ttl
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
return ms
