// The module specifiers a TypeScript or JavaScript file imports: static `import … from "x"` and
// `import "x"`, `export … from "x"`, `import x = require("x")` and dynamic `import("x")` with a
// string literal. A small tokenizer rather than a regular expression, so that specifiers inside
// comments, strings, template literals and regular expressions are not mistaken for imports.
// Used by scripts/check-boundaries.ts.

/** One import found in a file: its specifier and the 1-based line it is on. */
export interface ImportRef {
  specifier: string;
  line: number;
}

type Token = { kind: "name" | "string" | "punct" | "template" | "regex"; text: string; line: number };

/** Words after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // Open template literals: for each, the brace depth of its current `${ … }` expression.
  const templates: number[] = [];
  let line = 1;
  let i = 0;
  const n = source.length;

  const scanTemplate = (start: number): number => {
    // `start` is just past a backtick or a `}` closing a substitution; stops after the closing
    // backtick or after a `${` (then code resumes with a new brace depth).
    let j = start;
    while (j < n) {
      const c = source[j];
      if (c === "\\") j += 2;
      else if (c === "`") return j + 1;
      else if (c === "$" && source[j + 1] === "{") {
        templates.push(0);
        return j + 2;
      } else {
        if (c === "\n") line++;
        j++;
      }
    }
    return j;
  };

  while (i < n) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let k = i; k < stop; k++) if (source[k] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let j = i + 1;
      let text = "";
      while (j < n && source[j] !== c && source[j] !== "\n") {
        if (source[j] === "\\") {
          text += source[j + 1] ?? "";
          j += 2;
        } else text += source[j++];
      }
      tokens.push({ kind: "string", text, line: startLine });
      i = j + 1;
    } else if (c === "`") {
      tokens.push({ kind: "template", text: "`", line });
      i = scanTemplate(i + 1);
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === 0) {
      templates.pop();
      i = scanTemplate(i + 1);
    } else if (c === "/" && startsRegex(tokens.at(-1))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== "\n") {
        const d = source[j];
        if (d === "\\") j++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /[a-z]/i.test(source[j]!)) j++;
      tokens.push({ kind: "regex", text: source.slice(i, j), line });
      i = j;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(source[j]!)) j++;
      tokens.push({ kind: "name", text: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j]!)) j++;
      tokens.push({ kind: "name", text: source.slice(i, j), line });
      i = j;
    } else {
      if (templates.length > 0) {
        if (c === "{") templates[templates.length - 1]!++;
        else if (c === "}") templates[templates.length - 1]!--;
      }
      tokens.push({ kind: "punct", text: c, line });
      i++;
    }
  }
  return tokens;
}

function startsRegex(previous: Token | undefined): boolean {
  if (!previous) return true;
  if (previous.kind === "name") return REGEX_AFTER_WORD.has(previous.text);
  if (previous.kind === "punct") return !")]}".includes(previous.text);
  return false;
}

/**
 * The specifiers `source` imports or re-exports, in order, each with its line.
 *
 * @example
 * scanImports('import { a } from "./a.ts";\nconst b = await import("b");')
 * // → [{ specifier: "./a.ts", line: 1 }, { specifier: "b", line: 2 }]
 */
export function scanImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const found: ImportRef[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind !== "name" || (token.text !== "import" && token.text !== "export")) continue;
    const previous = tokens[i - 1];
    // `x.import` or `{ import: … }` are property names, not the keyword.
    if (previous?.kind === "punct" && previous.text === ".") continue;
    const next = tokens[i + 1];
    if (!next) break;
    if (token.text === "import" && next.kind === "punct" && next.text === "(") {
      const argument = tokens[i + 2];
      const after = tokens[i + 3];
      if (
        argument?.kind === "string" &&
        after?.kind === "punct" &&
        (after.text === ")" || after.text === ",")
      ) {
        found.push({ specifier: argument.text, line: argument.line });
      }
      continue;
    }
    if (token.text === "import" && next.kind === "string") {
      found.push({ specifier: next.text, line: next.line });
      continue;
    }
    // `import.meta`, or a property named `import`/`export` in an object literal.
    if (next.kind === "punct" && (next.text === ":" || next.text === ".")) continue;
    // A declaration: the specifier is the string after `from` (or after `require(` in
    // `import x = require("x")`), before the statement ends.
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const t = tokens[j]!;
      if (t.kind === "punct") {
        if (t.text === "{") depth++;
        else if (t.text === "}") depth--;
        else if (t.text === ";" && depth === 0) break;
        // `export const x = …`, `export function …`: not a re-export.
        else if (t.text === "=" && tokens[j + 1]?.text !== "require") break;
        else if (t.text === "(" && tokens[j - 1]?.text !== "require") break;
        continue;
      }
      if (depth > 0) continue;
      if (t.kind === "name" && (t.text === "from" || t.text === "require")) {
        const specifier = t.text === "from" ? tokens[j + 1] : tokens[j + 2];
        if (specifier?.kind === "string") {
          found.push({ specifier: specifier.text, line: specifier.line });
          break;
        }
        continue;
      }
      if (t.kind === "name" && depth === 0 && DECLARATION_WORDS.has(t.text)) break;
      if (t.kind === "string" || t.kind === "template" || t.kind === "regex") break;
    }
  }
  return found;
}

/** Words that start a declaration after `export`, which then re-exports nothing. */
const DECLARATION_WORDS = new Set([
  "const",
  "let",
  "var",
  "function",
  "class",
  "interface",
  "enum",
  "default",
  "namespace",
  "abstract",
  "declare",
  "async",
  "import",
  "export",
]);
