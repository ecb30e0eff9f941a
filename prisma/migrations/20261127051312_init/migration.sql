-- CreateTable
CREATE TABLE "sessions" (
    "id" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "workflow_name" TEXT NOT NULL,
    "workflow" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "publish" BOOLEAN NOT NULL DEFAULT false,
    "repo_name" TEXT,
    "repo_url" TEXT,
    "workspace_path" TEXT,
    "current_phase" TEXT,
    "error" TEXT,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "phase_runs" (
    "id" UUID NOT NULL,
    "session_id" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "output" JSONB,
    "skip_reason" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "phase_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_calls" (
    "id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "call_key" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "schema_name" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "response_text" TEXT,
    "response" JSONB,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "error_code" TEXT,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "latency_ms" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "worker_host" TEXT,
    "worker_pid" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "model_calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "generated_files" (
    "id" UUID NOT NULL,
    "session_id" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "purpose" TEXT,
    "author" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "generated_files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "votes" (
    "id" UUID NOT NULL,
    "session_id" TEXT NOT NULL,
    "disagreement_id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "voter" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "choice" TEXT NOT NULL,
    "rationale" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "session_events" (
    "id" BIGSERIAL NOT NULL,
    "session_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "phase" TEXT,
    "message" TEXT NOT NULL,
    "data" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sessions_created_at_id_idx" ON "sessions"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "sessions_status_idx" ON "sessions"("status");

-- CreateIndex
CREATE UNIQUE INDEX "phase_runs_session_id_phase_key" ON "phase_runs"("session_id", "phase");

-- CreateIndex
CREATE UNIQUE INDEX "model_calls_idempotency_key_key" ON "model_calls"("idempotency_key");

-- CreateIndex
CREATE INDEX "model_calls_session_id_phase_idx" ON "model_calls"("session_id", "phase");

-- CreateIndex
CREATE UNIQUE INDEX "generated_files_session_id_path_key" ON "generated_files"("session_id", "path");

-- CreateIndex
CREATE UNIQUE INDEX "votes_session_id_disagreement_id_voter_key" ON "votes"("session_id", "disagreement_id", "voter");

-- CreateIndex
CREATE INDEX "session_events_session_id_id_idx" ON "session_events"("session_id", "id");

-- AddForeignKey
ALTER TABLE "phase_runs" ADD CONSTRAINT "phase_runs_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "model_calls" ADD CONSTRAINT "model_calls_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "generated_files" ADD CONSTRAINT "generated_files_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "votes" ADD CONSTRAINT "votes_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
