-- Counts one POST /login attempt by a client in the current fixed window, shared by every API
-- replica. Windows are aligned on Postgres's clock (one clock for all replicas): a window of
-- $2 seconds starts at a multiple of $2 seconds since the epoch. Rows of earlier windows are
-- deleted by the same statement, so the table holds one window's clients at most.
--
--   $1  client address (text)
--   $2  window length in seconds (integer, >= 1)
--
-- Returns one row: attempts (this window's count, this attempt included) and retry_after (whole
-- seconds until the window ends, >= 1).
WITH current_window AS (
  SELECT to_timestamp(floor(extract(epoch FROM now()) / $2::integer) * $2::integer) AS start
), swept AS (
  DELETE FROM login_attempts WHERE window_start < (SELECT start FROM current_window)
)
INSERT INTO login_attempts AS attempt (client, window_start, attempts)
SELECT $1::text, start, 1 FROM current_window
ON CONFLICT (client, window_start) DO UPDATE SET attempts = attempt.attempts + 1
RETURNING
  attempts,
  greatest(1, ceil(extract(epoch FROM window_start + make_interval(secs => $2::integer) - now())))::integer
    AS retry_after;
