-- CreateIndex
CREATE INDEX "model_calls_started_at_idx" ON "model_calls"("started_at");
