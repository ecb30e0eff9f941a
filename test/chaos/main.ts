// `npm run chaos [-- --quick] [--only a,b] [--backend redis|postgres] [--seed N] [--keep]`: starts its own
// services on loopback, runs each scenario (a fault while sessions run), prints a table and ends with
// exactly one summary line. Exits 1 when any session hung, an answer was lost, a duplicate request
// went unrecorded, or the harness itself failed; 2 on a bad command line. Ctrl-C stops everything.
import { createWriteStream, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { installShutdownHandlers } from "@foundry/devstack";
import type { Cluster } from "./cluster.ts";
import { parseChaosArgs, USAGE, UsageError } from "./options.ts";
import { formatReport, summaryLine, totals } from "./report.ts";
import { runScenario, type ScenarioResult } from "./runner.ts";
import type { Scenario } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { type Services, startServices } from "./services.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

let options: ReturnType<typeof parseChaosArgs>;
let scenarios: Scenario[];
try {
  options = parseChaosArgs(process.argv.slice(2));
  if (options.help || options.list) {
    say(USAGE);
    say("\nscenarios (forms that run each by default):");
    for (const scenario of SCENARIOS)
      say(`  ${scenario.name.padEnd(32)} ${scenario.forms.join(", ").padEnd(12)} ${scenario.title}`);
    process.exit(0);
  }
  scenarios = selectScenarios(options);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`chaos: ${error.message}\n${USAGE}`);
  process.exit(2);
}

const runDir = join(REPO_ROOT, ".data", "chaos", new Date().toISOString().replace(/[:.]/g, "-"));
// PostgreSQL runs as the user "postgres" when we are root: every directory on the way must be enterable.
mkdirSync(runDir, { recursive: true, mode: 0o755 });
const serviceLog = createWriteStream(join(runDir, "services.log"), { flags: "a" });
serviceLog.on("error", () => {});
const serviceStops: Array<() => Promise<void>> = [];
let cluster: Cluster | null = null;
const handlers = installShutdownHandlers(
  [
    async () => {
      await cluster?.stopProcesses();
    },
    async () => {
      for (const stop of serviceStops.reverse()) await stop().catch(() => {});
      serviceStops.length = 0;
    },
  ],
  { timeoutMs: 30_000 },
);

const results: ScenarioResult[] = [];
let harnessError: string | null = null;
const started = Date.now();
try {
  say(
    `chaos: ${scenarios.length} scenario(s), ${options.quick ? "quick" : "full"} form, backend ${options.backend}, seed ${options.seed}; logs in ${relative(process.cwd(), runDir) || runDir}`,
  );
  const services: Services = await startServices({
    dataDir: runDir,
    backend: options.backend,
    seed: options.seed,
    log: (line) => serviceLog.write(`${line}\n`),
    stops: serviceStops,
  });
  say(services.summary);
  for (const scenario of scenarios) {
    const result = await runScenario(
      scenario,
      {
        services,
        quick: options.quick,
        seed: options.seed,
        logDir: join(runDir, scenario.name),
        keep: options.keep,
        onCluster: (current) => {
          cluster = current;
        },
      },
      say,
    );
    results.push(result);
  }
} catch (error) {
  harnessError = (error as Error).message;
}
await handlers.shutdown();
handlers.dispose();
serviceLog.end();
if (!options.keep) removeData(runDir);

const total = totals(results);
say("");
say(formatReport(results));
say("");
say(`run time ${((Date.now() - started) / 1000).toFixed(0)} s; logs in ${runDir}`);
if (harnessError) say(`chaos: HARNESS ERROR: ${harnessError}`);
if (total.errors > 0) say(`chaos: HARNESS ERROR in ${total.errors} scenario(s): see the notes above`);
say(summaryLine(total));
const failed =
  total.hung > 0 || total.lost > 0 || total.unrecorded > 0 || total.errors > 0 || harnessError !== null;
process.exit(failed ? 1 : 0);

function selectScenarios(chosen: { quick: boolean; only: string[] | null; backend: string }): Scenario[] {
  const form = chosen.quick ? "quick" : "full";
  let list: Scenario[];
  if (chosen.only) {
    const unknown = chosen.only.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
    if (unknown.length > 0) {
      throw new UsageError(
        `--only: unknown scenario ${unknown.map((name) => `"${name}"`).join(", ")} (expected some of: ${SCENARIOS.map((s) => s.name).join(", ")})`,
      );
    }
    list = SCENARIOS.filter((scenario) => chosen.only?.includes(scenario.name));
  } else {
    list = SCENARIOS.filter((scenario) => scenario.forms.includes(form));
  }
  const unsupported = list.filter(
    (scenario) => scenario.needs?.includes("redis") && chosen.backend !== "redis",
  );
  if (unsupported.length > 0 && chosen.only) {
    throw new UsageError(`${unsupported.map((s) => s.name).join(", ")}: need --backend redis`);
  }
  return list.filter((scenario) => !unsupported.includes(scenario));
}

/** Removes the run's data (databases, AOF, generated projects) and keeps its logs. */
function removeData(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (["postgres", "redis", "workflows"].includes(entry.name))
      rmSync(path, { recursive: true, force: true });
    else rmSync(join(path, "workspaces"), { recursive: true, force: true });
  }
}
