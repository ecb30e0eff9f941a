// A local stand-in for the GitHub REST API (the few routes publishing uses), backed by bare git
// repositories on disk as push targets. Not a mock of our code: it is the other side of the wire.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeGitHub {
  url: string;
  /** Bare repositories live here: `<root>/<owner>/<name>.git`. */
  root: string;
  requests: Array<{ method: string; path: string; authorization: string | undefined; body: unknown }>;
  close(): Promise<void>;
}

export async function startFakeGitHub(options: { token: string; login?: string }): Promise<FakeGitHub> {
  const login = options.login ?? "octocat";
  const root = await mkdtemp(join(tmpdir(), "fake-github-"));
  const requests: FakeGitHub["requests"] = [];
  const repos = new Map<string, { name: string; private: boolean; description: string }>();
  let baseUrl = "";

  const repoJson = (owner: string, name: string) => ({
    id: repos.size,
    name,
    full_name: `${owner}/${name}`,
    private: repos.get(`${owner}/${name}`)?.private ?? true,
    html_url: `${baseUrl}/${owner}/${name}`,
    clone_url: `file://${join(root, owner, `${name}.git`)}`,
  });

  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    const path = (req.url ?? "/").split("?")[0] as string;
    requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (
      req.headers.authorization !== `token ${options.token}` &&
      req.headers.authorization !== `Bearer ${options.token}`
    ) {
      return send(401, { message: "Bad credentials" });
    }
    if (req.method === "GET" && path === "/user") return send(200, { login });
    if (req.method === "POST" && path === "/user/repos") {
      const {
        name,
        private: isPrivate,
        description,
      } = body as { name: string; private: boolean; description: string };
      if (repos.has(`${login}/${name}`)) {
        return send(422, {
          message: "Repository creation failed.",
          errors: [{ message: "name already exists on this account" }],
        });
      }
      repos.set(`${login}/${name}`, { name, private: isPrivate, description });
      execFileSync("git", ["init", "--bare", "--quiet", join(root, login, `${name}.git`)]);
      return send(201, repoJson(login, name));
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    if (req.method === "GET" && match && repos.has(`${match[1]}/${match[2]}`)) {
      return send(200, repoJson(match[1] as string, match[2] as string));
    }
    send(404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: baseUrl,
    root,
    requests,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : null;
}
