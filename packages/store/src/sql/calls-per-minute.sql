-- Model calls per provider and minute since a point in time, for the load chart: the calls that
-- started in each minute (answers from the response cache sent no request and are left out), the
-- provider requests they made (attempts) and the 429s they received.
--
--   $1  since (timestamptz)
--
-- Returns one row per provider and minute that had calls: provider (text), minute (timestamptz,
-- the minute's start), calls, requests, rate_limited (int); ordered by minute.
SELECT provider,
       date_trunc('minute', started_at) AS minute,
       count(*)::int AS calls,
       coalesce(sum(attempts), 0)::int AS requests,
       coalesce(sum(rate_limit_hits), 0)::int AS rate_limited
FROM model_calls
WHERE started_at >= $1 AND NOT cached
GROUP BY provider, minute
ORDER BY minute, provider
