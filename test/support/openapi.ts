// Checks real answers of the API against its OpenAPI document with a JSON Schema validator (ajv,
// draft 2020-12, the dialect of OpenAPI 3.1): the status and media type must be documented for the
// route, and a JSON body must validate against the documented schema.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export interface Checked {
  status: number;
  /** The JSON body (or the text, for other media types). */
  body: unknown;
  headers: Headers;
}

export class OpenApiChecker {
  readonly #doc: OpenApiDoc;
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  /** `METHOD /template` of every answer checked, with its status. */
  readonly seen = new Set<string>();

  constructor(doc: OpenApiDoc) {
    this.#doc = doc;
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
    this.#ajv.addFormat("binary", true);
  }

  /** The document's path template for a concrete path and method (`/api/sessions/{id}`). */
  template(method: string, path: string): string {
    const pathname = path.split("?")[0] as string;
    for (const [template, operations] of Object.entries(this.#doc.paths)) {
      if (!operations[method.toLowerCase()]) continue;
      const pattern = template.replace(/\{(\w+)\}/g, (_, name: string) => (name === "path" ? ".+" : "[^/]+"));
      if (new RegExp(`^${pattern}$`).test(pathname)) return template;
    }
    throw new Error(`no documented route for ${method} ${pathname}`);
  }

  /** Validates `value` against a named component (`SessionEvent`); returns the errors, if any. */
  validateComponent(name: string, value: unknown): string | null {
    return this.#run(`component ${name}`, { $ref: `#/components/schemas/${name}` }, value);
  }

  /** Reads a response and checks it against the document; throws with the reason when it does not fit. */
  async check(method: string, path: string, response: Response): Promise<Checked> {
    const template = this.template(method, path);
    const operation = this.#doc.paths[template]?.[method.toLowerCase()] as Operation;
    const where = `${method} ${path} → ${response.status}`;
    const documented = operation.responses[String(response.status)];
    if (!documented) throw new Error(`${where}: status not documented for ${template}`);
    this.seen.add(`${method} ${template} ${response.status}`);
    const type = response.headers.get("content-type")?.split(";")[0]?.trim() ?? null;
    if (response.status === 204 || response.status === 304) {
      if (documented.content) throw new Error(`${where}: documented with a body`);
      if ((await response.text()) !== "") throw new Error(`${where}: has a body`);
      return { status: response.status, body: null, headers: response.headers };
    }
    const media = type ? documented.content?.[type] : undefined;
    if (!media) throw new Error(`${where}: media type ${type} not documented for ${template}`);
    if (type !== "application/json") {
      const body = type === "application/gzip" ? await response.arrayBuffer() : await response.text();
      return { status: response.status, body, headers: response.headers };
    }
    const body: unknown = await response.json();
    const errors = this.#run(`${method} ${template} ${response.status}`, media.schema, body);
    if (errors) throw new Error(`${where}: the body does not match the document: ${errors}`);
    return { status: response.status, body, headers: response.headers };
  }

  #run(key: string, schema: unknown, value: unknown): string | null {
    let validate = this.#validators.get(key);
    if (!validate) {
      // The components ride along so that `#/components/schemas/…` references resolve.
      validate = this.#ajv.compile({ ...(schema as object), components: this.#doc.components });
      this.#validators.set(key, validate);
    }
    return validate(value) ? null : this.#ajv.errorsText(validate.errors);
  }
}
