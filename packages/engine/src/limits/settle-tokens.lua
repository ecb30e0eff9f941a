-- Replaces a token reservation with the usage the provider reported, if the reservation is still in
-- its window (a later settle of an expired one would count tokens in no window).
--   KEYS[1]  hash of token reservations (see sliding-window.lua)
--   ARGV[1]  request id
--   ARGV[2]  tokens used
-- Returns 1 when the reservation was updated, 0 when it had already left the window.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
