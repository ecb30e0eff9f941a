import { textOf } from "./wire.ts";

// The rules the Messages API applies to a conversation, from its reference ("tool use" and
// "messages"): a `tool_use` in an assistant turn is answered by a `tool_result` in the very next
// user turn, those results come first in that turn, every result names a `tool_use` of the turn
// before, tool input is an object, and text blocks are not empty.

/** One message as the request schema reads it: a string, or a list of typed blocks. */
export interface Message {
  role: "user" | "assistant";
  content: string | ({ type: string } & Record<string, unknown>)[];
}

/** The first rule the conversation breaks, in the API's words, or null when it keeps them all. */
export function conversationError(messages: readonly Message[]): string | null {
  for (const [i, message] of messages.entries()) {
    const blocks =
      typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
    if (blocks.length === 0 && i < messages.length - 1) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, block] of blocks.entries()) {
      if (block.type === "text" && (typeof block.text !== "string" || block.text.trim() === "")) {
        return `messages.${i}.content.${j}: text content blocks must contain non-whitespace text`;
      }
      if (
        block.type === "tool_use" &&
        (typeof block.input !== "object" || block.input === null || Array.isArray(block.input))
      ) {
        return `messages.${i}.content.${j}.tool_use.input: Input should be a valid dictionary`;
      }
      if (
        (block.type === "tool_use" || block.type === "tool_result") &&
        !isId(block.type === "tool_use" ? block.id : block.tool_use_id)
      ) {
        return `messages.${i}.content.${j}: ${block.type === "tool_use" ? "id" : "tool_use_id"} must match ^[a-zA-Z0-9_-]+$`;
      }
    }
    const results = blocks.filter((block) => block.type === "tool_result");
    if (results.length > 0) {
      if (message.role !== "user")
        return `messages.${i}: tool_result blocks are only allowed in user messages`;
      const firstOther = blocks.findIndex((block) => block.type !== "tool_result");
      if (firstOther !== -1 && firstOther < blocks.findLastIndex((block) => block.type === "tool_result")) {
        return `messages.${i}: tool_result blocks must come first in the content, before any other block`;
      }
      const offered = new Set(toolUseIds(messages[i - 1]));
      const unknown = results.map((block) => String(block.tool_use_id)).filter((id) => !offered.has(id));
      if (unknown.length > 0) {
        return `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unknown.join(", ")}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    const uses = message.role === "assistant" ? toolUseIds(message) : [];
    if (uses.length > 0) {
      const next = messages[i + 1];
      const answered = new Set(
        next?.role === "user" && typeof next.content !== "string"
          ? next.content
              .filter((block) => block.type === "tool_result")
              .map((block) => String(block.tool_use_id))
          : [],
      );
      const missing = uses.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
  }
  return null;
}

/**
 * Every text of a message, for token counting and the scripted answers: text blocks, tool input
 * as JSON, and what tool results say.
 */
export function messageText(content: Message["content"]): string {
  if (typeof content === "string") return content;
  return content
    .map((block) => {
      if (block.type === "tool_use") return JSON.stringify(block.input ?? {});
      if (block.type === "tool_result") return textOf(block.content);
      return typeof block.text === "string" ? block.text : "";
    })
    .filter((text) => text !== "")
    .join("\n");
}

function toolUseIds(message: Message | undefined): string[] {
  if (!message || typeof message.content === "string") return [];
  return message.content.filter((block) => block.type === "tool_use").map((block) => String(block.id));
}

function isId(value: unknown): boolean {
  return typeof value === "string" && /^[a-zA-Z0-9_-]+$/.test(value);
}
