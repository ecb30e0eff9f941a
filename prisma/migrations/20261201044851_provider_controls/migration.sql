-- AlterTable
ALTER TABLE "model_calls" ADD COLUMN     "cached" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "fallback_from" TEXT,
ADD COLUMN     "repair" JSONB,
ADD COLUMN     "reserved_usd" DECIMAL(14,6) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "budget_usd" DECIMAL(14,6),
ADD COLUMN     "cache" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "provider_breakers" (
    "key" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "opened_at" TIMESTAMPTZ(3),
    "retry_at" TIMESTAMPTZ(3),
    "probe_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_breakers_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "response_cache" (
    "key" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "schema_name" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "response_text" TEXT NOT NULL,
    "input_tokens" INTEGER NOT NULL,
    "output_tokens" INTEGER NOT NULL,
    "hits" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "response_cache_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "spend_minutes" (
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "usd" DECIMAL(14,6) NOT NULL DEFAULT 0,

    CONSTRAINT "spend_minutes_pkey" PRIMARY KEY ("minute")
);

-- CreateIndex
CREATE INDEX "response_cache_expires_at_idx" ON "response_cache"("expires_at");

-- CreateIndex
CREATE INDEX "response_cache_created_at_idx" ON "response_cache"("created_at");
