-- The PostgreSQL request and token limiter's admission in one round trip (see
-- packages/store/src/postgres-sliding-window.ts). Under the limit's advisory lock (held until the
-- statement's transaction ends), each statement of this VOLATILE function reads with a new snapshot,
-- so it sees every admission committed before the lock was granted. Returns the ms to wait, or 0
-- when the request was admitted (its row inserted). A limit with a null max is not checked.
CREATE FUNCTION foundry_rate_acquire(
    p_name TEXT,
    p_id TEXT,
    p_request_max INTEGER,
    p_request_window_ms BIGINT,
    p_token_max INTEGER,
    p_token_window_ms BIGINT,
    p_need INTEGER
) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_now BIGINT;
    v_count INTEGER;
    v_oldest BIGINT;
    v_used BIGINT;
    v_token_wait BIGINT;
    v_wait BIGINT := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('foundry:rate:' || p_name));
    v_now := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    -- Rows gone from both windows are deleted; the rest are what the windows hold.
    DELETE FROM rate_admissions WHERE name = p_name AND expires_ms <= v_now;
    IF p_request_max IS NOT NULL THEN
        SELECT count(*), min(admitted_ms) INTO v_count, v_oldest FROM rate_admissions
        WHERE name = p_name AND counts_request AND admitted_ms > v_now - p_request_window_ms;
        -- Full: wait until the oldest counted request leaves the window.
        IF v_count >= p_request_max THEN
            v_wait := greatest(1, v_oldest + p_request_window_ms - v_now);
        END IF;
    END IF;
    IF p_token_max IS NOT NULL THEN
        SELECT coalesce(sum(tokens), 0) INTO v_used FROM rate_admissions
        WHERE name = p_name AND tokens > 0 AND admitted_ms > v_now - p_token_window_ms;
        -- Over: wait until enough of the oldest reservations leave the window for p_need more.
        IF v_used + p_need > p_token_max THEN
            SELECT greatest(1, w.admitted_ms + p_token_window_ms - v_now) INTO v_token_wait
            FROM (
                SELECT admitted_ms, id, sum(tokens) OVER (ORDER BY admitted_ms, id) AS freed
                FROM rate_admissions
                WHERE name = p_name AND tokens > 0 AND admitted_ms > v_now - p_token_window_ms
            ) AS w
            WHERE v_used - w.freed + p_need <= p_token_max
            ORDER BY w.admitted_ms, w.id
            LIMIT 1;
            v_wait := greatest(v_wait, coalesce(v_token_wait, p_token_window_ms));
        END IF;
    END IF;
    IF v_wait > 0 THEN
        RETURN v_wait;
    END IF;
    INSERT INTO rate_admissions (name, id, admitted_ms, expires_ms, counts_request, tokens)
    VALUES (p_name, p_id, v_now, v_now + greatest(coalesce(p_request_window_ms, 0), coalesce(p_token_window_ms, 0)),
        p_request_max IS NOT NULL, CASE WHEN p_token_max IS NULL THEN 0 ELSE p_need END);
    RETURN 0;
END
$$;
