import type { SimProvider } from "../types.ts";
import { readBrief } from "./brief.ts";
import { planComparisonAnswer, resolutionAnswer, voteAnswer } from "./deliberation.ts";
import { backendPlanAnswer, frontendPlanAnswer } from "./plans.ts";
import {
  backendImplementationAnswer,
  frontendImplementationAnswer,
  testSuiteAnswer,
} from "./project-files.ts";
import { requirementsAnswer } from "./requirements.ts";
import { isScriptedName } from "./shapes.ts";

export interface ScriptContext {
  provider: SimProvider;
  /** Every text of the request (system and messages). */
  prompt: string;
  planComparison: "conflicts" | "agree";
}

/**
 * The scripted answer for one of the workflow's schema names, or undefined for any other name.
 * Together the answers describe, plan and implement one small runnable project.
 */
export function scriptedAnswer(schemaName: string, context: ScriptContext): unknown {
  if (!isScriptedName(schemaName)) return undefined;
  const { prompt } = context;
  switch (schemaName) {
    case "requirements":
      return requirementsAnswer(readBrief(prompt, false));
    case "backend_plan":
      return backendPlanAnswer(readBrief(prompt));
    case "frontend_plan":
      return frontendPlanAnswer(readBrief(prompt));
    case "plan_comparison":
      return planComparisonAnswer(context.planComparison);
    case "vote":
      return voteAnswer(context.provider, prompt);
    case "resolution":
      return resolutionAnswer(prompt, context.planComparison);
    case "backend_implementation":
      return backendImplementationAnswer(readBrief(prompt));
    case "frontend_implementation":
      return frontendImplementationAnswer(readBrief(prompt));
    case "test_suite":
      return testSuiteAnswer();
  }
}
