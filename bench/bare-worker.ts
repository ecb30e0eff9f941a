// The bare baseline of bench/overhead.ts, run as its own OS process so that its CPU and memory are
// its own: a plain BullMQ worker whose every job makes one chat completion with the official openai
// SDK to the provider simulator. No journal, no phases, no Postgres: the floor the full system is
// compared with. Configured by environment (below); stops on SIGTERM or when its launcher is gone.
import { openQueueConnection, type QueueBackend } from "@foundry/queue";
import OpenAI from "openai";

/** The model named in every bare call: the workflow's OpenAI model. */
const MODEL = "gpt-6-sol";
// A small structured answer, as the real calls ask for one (response_format json_schema).
const ANSWER_SCHEMA = {
  type: "object",
  properties: { answer: { type: "string" } },
  required: ["answer"],
  additionalProperties: false,
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`bare-worker: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const backend = required("BARE_BACKEND");
const queue = required("BARE_QUEUE");
const concurrency = Number(required("BARE_CONCURRENCY"));
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error("bare-worker: BARE_CONCURRENCY: expected a positive integer");
  process.exit(2);
}

// The same queue layer as the system (BullMQ on Redis or on PostgreSQL), nothing above it.
let queueBackend: QueueBackend;
switch (backend) {
  case "redis":
    queueBackend = {
      kind: "redis",
      url: required("REDIS_URL"),
      prefix: required("BARE_PREFIX"),
      cluster: false,
    };
    break;
  case "postgres":
    queueBackend = { kind: "postgres", url: required("DATABASE_URL") };
    break;
  default:
    console.error(`bare-worker: unknown BARE_BACKEND "${backend}"`);
    process.exit(2);
}
const connection = await openQueueConnection(queueBackend, { role: "worker" });

// Every option the SDK would otherwise read from process.env is given, as the provider adapter does.
const client = new OpenAI({
  apiKey: required("OPENAI_API_KEY"),
  baseURL: required("OPENAI_BASE_URL"),
  organization: null,
  project: null,
  adminAPIKey: null,
  webhookSecret: null,
  maxRetries: 0,
  timeout: 60_000,
});

const worker = connection.worker(
  queue,
  async (job) => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "You answer in JSON." },
        { role: "user", content: `Bare benchmark call ${job.id}: answer briefly.` },
      ],
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: ANSWER_SCHEMA, strict: true },
      },
      max_completion_tokens: 1024,
    });
    return { tokens: completion.usage?.total_tokens ?? 0 };
  },
  { concurrency },
);
worker.on("error", (error) => console.error(`bare-worker: ${error.message}`));
await worker.waitUntilReady();

// SIGTERM, or the launcher gone (its IPC channel closed, even when it was killed outright): stop.
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 5_000).unref();
  worker
    .close()
    .then(() => connection.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
