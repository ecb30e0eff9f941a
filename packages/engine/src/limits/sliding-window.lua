-- Sliding-window request limiter shared by every worker of the cluster.
--
-- Contract:
--   KEYS[1]  sorted set of admitted requests (member: unique id, score: admission time in ms)
--   ARGV[1]  max requests admitted in any window
--   ARGV[2]  window length in ms
--   ARGV[3]  unique member for this request
-- Returns 0 when the request is admitted (and recorded), otherwise the number of ms until the
-- oldest admission leaves the window. The clock is the Redis server's, so every worker on every
-- machine sees the same time. A window is the half-open interval (now - window, now].
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
