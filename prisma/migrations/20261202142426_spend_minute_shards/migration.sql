-- CreateTable
CREATE TABLE "spend_minute_shards" (
    "minute" TIMESTAMPTZ(0) NOT NULL,
    "shard" SMALLINT NOT NULL,
    "usd" DECIMAL(14,6) NOT NULL DEFAULT 0,

    CONSTRAINT "spend_minute_shards_pkey" PRIMARY KEY ("minute","shard")
);
