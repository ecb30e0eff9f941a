-- A fingerprint of everything GET /api/sessions/:id shows of one session, without reading the big
-- columns (the request, the workflow snapshot, phase outputs, prompts, answers, file contents):
-- it changes whenever the view would. Phase outputs change only with their phase's status and
-- finish time, and the view's event log only grows, so the newest event id stands for it.
--
--   $1  session id (text)
--
-- Returns no row when the session does not exist, else one row: version (text, an md5 in hex).
SELECT md5(concat_ws('|',
  ROW(s.status, s.current_phase, s.error, s.error_code, s.run, s.retries, s.publish, s.budget_usd,
      s.cache, s.input_tokens, s.output_tokens, s.cost_usd, s.started_at, s.finished_at,
      s.workspace_path, s.repo_url, s.updated_at)::text,
  (SELECT max(e.id)::text FROM session_events e WHERE e.session_id = s.id),
  (SELECT string_agg(ROW(p.phase, p.status, p.skip_reason, p.error, p.attempts, p.started_at,
          p.finished_at)::text, ';' ORDER BY p.position)
     FROM phase_runs p WHERE p.session_id = s.id),
  (SELECT string_agg(ROW(c.idempotency_key, c.status, c.error, c.error_code, c.input_tokens,
          c.output_tokens, c.cost_usd, c.latency_ms, c.attempts, c.rate_limit_hits, c.cached,
          c.fallback_from, c.worker_host, c.worker_pid, c.started_at, c.finished_at)::text, ';' ORDER BY c.idempotency_key)
     FROM model_calls c WHERE c.session_id = s.id),
  (SELECT string_agg(ROW(f.path, f.sha256, f.size_bytes, f.author, f.phase, f.purpose)::text, ';'
          ORDER BY f.path)
     FROM generated_files f WHERE f.session_id = s.id),
  (SELECT string_agg(ROW(v.disagreement_id, v.voter, v.topic, v.provider, v.model, v.choice,
          md5(v.rationale), v.created_at)::text, ';' ORDER BY v.disagreement_id, v.voter)
     FROM votes v WHERE v.session_id = s.id)
)) AS version
FROM sessions s
WHERE s.id = $1
