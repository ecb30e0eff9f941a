-- Cluster-wide admission of one provider request: a sliding-window request limit and a
-- sliding-window token limit, checked together and recorded together, so that a request refused by
-- one limit takes nothing from the other.
--
-- Contract:
--   KEYS[1]  sorted set of admitted requests (member: request id, score: admission time in ms)
--   KEYS[2]  sorted set of token reservations (member: request id, score: admission time in ms)
--   KEYS[3]  hash of token reservations (field: request id, value: tokens held)
--   ARGV[1]  max requests in any window (0: no request limit)
--   ARGV[2]  request window in ms
--   ARGV[3]  max tokens in any window (0: no token limit)
--   ARGV[4]  token window in ms
--   ARGV[5]  request id (unique)
--   ARGV[6]  tokens this request may use (capped at the token limit by the caller)
-- Returns 0 when admitted (and recorded), otherwise the ms until enough of the oldest admissions
-- leave their windows. The clock is the Redis server's, so every worker sees the same time. A
-- window is the half-open interval (now - window, now]. All keys share the caller's hash tag.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxRequests = tonumber(ARGV[1])
local requestWindow = tonumber(ARGV[2])
local maxTokens = tonumber(ARGV[3])
local tokenWindow = tonumber(ARGV[4])
local id = ARGV[5]
local need = tonumber(ARGV[6])
local wait = 0

if maxRequests > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - requestWindow)
  if redis.call('ZCARD', KEYS[1]) >= maxRequests then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    wait = math.max(1, tonumber(oldest[2]) + requestWindow - now)
  end
end

if maxTokens > 0 then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tokenWindow)
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[3], unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tokenWindow)
  local held = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local amounts = {}
  local used = 0
  for i = 1, #held, 2 do
    local amount = tonumber(redis.call('HGET', KEYS[3], held[i]) or '0')
    amounts[#amounts + 1] = amount
    used = used + amount
  end
  if used + need > maxTokens then
    -- The oldest reservations leave first: wait until enough of them have.
    local freed = 0
    local freeAt = now + tokenWindow
    for i = 1, #amounts do
      freed = freed + amounts[i]
      if used - freed + need <= maxTokens then
        freeAt = tonumber(held[i * 2]) + tokenWindow
        break
      end
    end
    wait = math.max(wait, 1, freeAt - now)
  end
end

if wait > 0 then return wait end

if maxRequests > 0 then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], requestWindow)
end
if maxTokens > 0 then
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('HSET', KEYS[3], id, need)
  redis.call('PEXPIRE', KEYS[2], tokenWindow)
  redis.call('PEXPIRE', KEYS[3], tokenWindow)
end
return 0
