-- AlterTable
ALTER TABLE "spend_minutes" DROP CONSTRAINT "spend_minutes_pkey",
ADD COLUMN     "shard" SMALLINT NOT NULL DEFAULT 0,
ADD CONSTRAINT "spend_minutes_pkey" PRIMARY KEY ("minute", "shard");
