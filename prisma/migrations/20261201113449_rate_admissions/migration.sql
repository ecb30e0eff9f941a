-- CreateTable
CREATE TABLE "rate_admissions" (
    "name" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "admitted_ms" BIGINT NOT NULL,
    "expires_ms" BIGINT NOT NULL,
    "counts_request" BOOLEAN NOT NULL,
    "tokens" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "rate_admissions_pkey" PRIMARY KEY ("name","id")
);

-- CreateIndex
CREATE INDEX "rate_admissions_name_expires_ms_idx" ON "rate_admissions"("name", "expires_ms");
