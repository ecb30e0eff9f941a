-- DropIndex
DROP INDEX "sessions_status_idx";

-- AlterTable
ALTER TABLE "model_calls" ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "lease_owner" TEXT,
ADD COLUMN     "rate_limit_hits" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "error_code" TEXT,
ADD COLUMN     "progress_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "retries" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "run" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "leader_leases" (
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leader_leases_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "sessions_status_progress_at_idx" ON "sessions"("status", "progress_at");
