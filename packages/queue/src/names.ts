import { PROVIDERS } from "@foundry/llm";

/** The queue whose jobs are workflow phases. */
export const ORCHESTRATOR_QUEUE = "orchestrator";
/** Every queue the system uses: the orchestrator and one per provider. */
export const QUEUE_NAMES = [ORCHESTRATOR_QUEUE, ...PROVIDERS] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
