-- A provider's circuit breaker in one Redis hash, shared by every worker of the cluster.
--
-- Contract:
--   KEYS[1]  the breaker's hash: state (closed|open|half_open), failures, opened_at, retry_at,
--            probe_at (ms, Redis's clock), last_error
--   ARGV[1]  operation: admit | success | failure
--   ARGV[2]  cool-down in ms
--   ARGV[3]  failure threshold (failure only)
--   ARGV[4]  error text (failure only)
-- Returns:
--   admit    {1, probe(0|1), clean(0|1)} when a request may go (probe: it decides whether the
--            breaker closes; clean: closed with no failure counted, the hash does not exist),
--            or {0, opened_at, retry_at, last_error} while open
--   success  1 when it closed an open or half-open breaker, else 0
--   failure  {state, opened(0|1)}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local op = ARGV[1]
local cooldown = tonumber(ARGV[2])
local state = redis.call('HGET', key, 'state') or 'closed'

if op == 'admit' then
  if state == 'closed' then return {1, 0, 1 - redis.call('EXISTS', key)} end
  local retry_at = tonumber(redis.call('HGET', key, 'retry_at') or '0')
  local probe_at = tonumber(redis.call('HGET', key, 'probe_at') or '0')
  if (state == 'open' and retry_at <= now) or (state == 'half_open' and probe_at + cooldown <= now) then
    redis.call('HSET', key, 'state', 'half_open', 'probe_at', now)
    return {1, 1, 0}
  end
  if state == 'half_open' then retry_at = probe_at + cooldown end
  return {0, redis.call('HGET', key, 'opened_at') or tostring(now), tostring(retry_at), redis.call('HGET', key, 'last_error') or ''}
end

if op == 'success' then
  local failures = tonumber(redis.call('HGET', key, 'failures') or '0')
  if state == 'closed' and failures == 0 then return 0 end
  redis.call('DEL', key)
  if state == 'closed' then return 0 end
  return 1
end

-- failure
local threshold = tonumber(ARGV[3])
redis.call('HSET', key, 'last_error', ARGV[4])
if state == 'half_open' then
  redis.call('HSET', key, 'state', 'open', 'retry_at', now + cooldown)
  redis.call('HDEL', key, 'probe_at')
  return {'open', 1}
end
if state == 'open' then return {'open', 0} end
local failures = redis.call('HINCRBY', key, 'failures', 1)
if failures >= threshold then
  redis.call('HSET', key, 'state', 'open', 'opened_at', now, 'retry_at', now + cooldown)
  return {'open', 1}
end
redis.call('HSET', key, 'state', 'closed')
return {'closed', 0}
