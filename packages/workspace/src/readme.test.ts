import { fileURLToPath } from "node:url";
import { loadWorkflowFile } from "@foundry/workflow";
import { describe, expect, it } from "vitest";
import type { AcceptedFile } from "./paths.ts";
import { buildProjectReadme, markdownCode, markdownText, withProjectReadme } from "./readme.ts";

const workflow = await loadWorkflowFile(
  fileURLToPath(new URL("../../../workflows/software-project.yaml", import.meta.url)),
);

// What a hostile request or model might put in any text field.
const HOSTILE = [
  '<img src=x onerror="alert(1)">',
  "[click](javascript:alert(1))",
  "<javascript:alert(2)>",
  "![pixel](https://evil.example/track.png)",
  "\\[escaped](javascript:alert(3))",
  "`code` then <script>alert(4)</script>",
  "[ref]: javascript:alert(5)",
  "line\rbreak\u2028<b>sep</b>\u2029end",
].join(" ");

const file = (path: string, purpose: string, content = "x"): AcceptedFile => ({
  path,
  content,
  purpose,
  author: "backend",
  phase: "implementation",
  bytes: content.length,
});

function hostileReadme() {
  const plan = {
    summary: HOSTILE,
    architecture: `${HOSTILE}\n<div onclick="x()">block</div>`,
    apiContract: [{ method: "GET", path: "/todos", description: HOSTILE, request: "none", response: "[]" }],
    dataModel: [],
    components: [],
    dependencies: [],
    risks: [],
  };
  return buildProjectReadme({
    sessionId: "00000000-0000-4000-8000-000000000000",
    request: `Build a todo app\n${HOSTILE}\n<iframe src="javascript:alert(6)"></iframe>`,
    workflow,
    context: {
      request: "",
      requirements: {
        requirements: {
          title: `Todo ${HOSTILE}`,
          summary: HOSTILE,
          features: [{ id: "F1", name: HOSTILE, description: HOSTILE, priority: "must" }],
          nonFunctional: [HOSTILE],
          constraints: [HOSTILE],
          assumptions: [{ question: HOSTILE, assumption: HOSTILE }],
        },
      },
      planning: { backend: plan, frontend: plan },
      comparison: {
        comparison: {
          summary: HOSTILE,
          disagreements: [
            {
              id: "D1",
              topic: HOSTILE,
              backendPosition: HOSTILE,
              frontendPosition: HOSTILE,
              severity: "high",
            },
          ],
        },
      },
      resolution: {
        decision: {
          decisions: [
            { disagreementId: "D1", topic: "t", outcome: "backend", tieBreak: false, rationale: HOSTILE },
          ],
          finalDecision: HOSTILE,
        },
      },
      testing: { tests: { summary: HOSTILE, command: "npm test", files: [] } },
    },
    files: [file("src/app.js", HOSTILE)],
  });
}

/** Characters that are live Markdown syntax: not preceded by an odd number of backslashes. */
function unescaped(text: string, chars: string): string[] {
  const found: string[] = [];
  let backslashes = 0;
  for (const char of text) {
    if (chars.includes(char) && backslashes % 2 === 0) found.push(char);
    backslashes = char === "\\" ? backslashes + 1 : 0;
  }
  return found;
}

describe("the generated README", () => {
  it("shows text from the request and from models as text: no raw HTML, no links, no images", () => {
    const readme = hostileReadme();
    // Every hostile field landed (nothing was dropped to pass the test)…
    expect(readme.match(/alert\(1\)/g)?.length).toBeGreaterThanOrEqual(20);
    // …and none of it can open a tag, an autolink, a link, an image or a link definition.
    expect(readme).not.toContain("<");
    expect(unescaped(readme, "[]")).toEqual([]);
    // The only code spans are the engine's own: the session id, the workflow and the commands.
    const ours = [
      "`00000000-0000-4000-8000-000000000000`",
      "`software-project`",
      "`npm test`",
      "`src/app.js`",
      "`/todos`",
    ];
    let rest = readme;
    for (const span of ours) rest = rest.replaceAll(span, "");
    expect(unescaped(rest, "`")).toEqual([]);
  });

  it("keeps CR and U+2028/U+2029 from starting lines the template did not write", () => {
    const readme = hostileReadme();
    expect(readme).not.toMatch(/[\r\u0085\u2028\u2029]/);
    // Each request line stays inside the quote.
    const quoted = readme.split("## Request\n\n")[1]?.split("\n\n")[0] ?? "";
    expect(quoted.split("\n").every((line) => line.startsWith("> "))).toBe(true);
    expect(quoted.split("\n")).toHaveLength(6);
    // A heading stays one line.
    expect(readme.split("\n")[0]).toMatch(/^# Todo &lt;img .* end$/);
  });

  it("fences code spans so their content cannot close them early", () => {
    const command = "npm test` <img src=x onerror=alert(1)> `";
    expect(markdownCode(command)).toBe("`` npm test` <img src=x onerror=alert(1)> ` ``");
    expect(markdownCode("a\r\nb")).toBe("`a b`");
    expect(markdownText("a\\[b](javascript:x)")).toBe("a\\\\\\[b\\](javascript:x)");
  });

  it("keeps a model's own README verbatim inside a fence it cannot close", () => {
    const notes = "# Notes\n```\n<script>alert(1)</script>\n```\n````\n[x](javascript:alert(1))";
    const files = withProjectReadme([file("README.md", "p", notes)], "# Project\n", "files");
    expect(files).toHaveLength(1);
    expect(files[0]?.content).toBe(
      `# Project\n\n## Notes from the backend\n\n\`\`\`\`\`markdown\n${notes}\n\`\`\`\`\`\n`,
    );
  });
});
