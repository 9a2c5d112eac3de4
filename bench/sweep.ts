// The standing sweep at scale: a synthetic tenant with logs served by the local Azure (Resource
// Graph's quota enforced as in Azure), swept by a separate process whose peak RSS is measured,
// against the floor Resource Graph's quota sets. The same at a quarter of the size shows whether
// the sweeping process's memory grows with the tenant.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { startLocalAzure, type LocalAzure } from "../local/localAzure.js";
import { DEFAULT_RESOURCE_GRAPH_QUOTA } from "../local/simulator/resourceGraph.js";
import { loadTrustedLocalTls } from "../local/tls.js";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import type { SweepMeasurement } from "./sweepDriver.js";
import { syntheticTenant, type SyntheticSize } from "./synthetic.js";

const CHILD_SOURCE = fileURLToPath(new URL("./sweepChild.ts", import.meta.url));
const CHILD = fileURLToPath(new URL("../dist/bench/sweepChild.js", import.meta.url));
const PEAK_RSS = fileURLToPath(new URL("./peakRss.mjs", import.meta.url));
const ASSIGNMENTS = Number(process.env.BENCH_SWEEP_ASSIGNMENTS ?? 100_000);
const PRINCIPALS = Number(process.env.BENCH_SWEEP_PRINCIPALS ?? 20_000);
// The smaller tenant the peak RSS is compared with (principals in the same proportion).
const COMPARE_ASSIGNMENTS = Number(process.env.BENCH_SWEEP_COMPARE_ASSIGNMENTS ?? 25_000);

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (kib: number) => `${fmt(kib / 1024)} MiB`;

/** What the bench saw of one sweep: the child's own figures, its peak RSS, and the simulator's request log. */
interface SweepFigures extends SweepMeasurement {
  /** first: every finding new; steady: the tenant unchanged since the first. */
  readonly kind: "first" | "steady";
  readonly size: SyntheticSize;
  readonly subscriptions: number;
  readonly logRows: number;
  readonly startSeconds: number;
  readonly seconds: number;
  /** HTTP requests to Table Storage (a transaction of up to 100 entities is one). */
  readonly tableRequests: number;
  readonly peakKib: number;
  readonly resourceGraphQueries: number;
  readonly throttled: number;
  readonly logQueries: number;
  readonly graphCalls: number;
  readonly pimCalls: number;
  readonly floorSeconds: number;
}

/**
 * The sweeping process as the Functions host's worker loads the app: one esbuild bundle, as
 * `npm run bundle` makes the app's (plain Node, no TypeScript compiled on load: under tsx the same
 * runtime takes about twice the resident memory before it does anything).
 */
async function bundleChild(): Promise<void> {
  await build({
    entryPoints: [CHILD_SOURCE],
    outfile: CHILD,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    external: ["@azure/functions-core"],
    // Bundled CommonJS dependencies call require: give the ES module one, as the app's bundle does.
    banner: { js: "import { createRequire as __grantguardRequire } from 'node:module'; const require = __grantguardRequire(import.meta.url);" },
  });
}

/** Runs the sweeping process against a local Azure; its JSON line and its peak RSS (KiB). */
function runChild(local: LocalAzure, table: string): Promise<SweepMeasurement & { seconds: number; tableRequests: number; peakKib: number }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...local.settings, GRANTGUARD_FINDINGS_TABLE: table };
    // BENCH_SWEEP_CPU_PROF=<dir>: each sweeping process writes a V8 CPU profile there (node --cpu-prof).
    const profile = process.env.BENCH_SWEEP_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_SWEEP_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...profile, "--import", PEAK_RSS, CHILD], { env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let report = "";
    child.stdout!.on("data", (d: Buffer) => void (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => void (stderr += d.toString()));
    child.stdio[3]!.on("data", (d: Buffer) => void (report += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      if (process.env.BENCH_SWEEP_VERBOSE) process.stderr.write(stderr);
      if (code !== 0) return reject(new Error(`the sweeping process exited ${code}: ${stderr.trim()}`));
      const line = stdout.trim().split("\n").pop() ?? "";
      resolve({ ...(JSON.parse(line) as SweepMeasurement & { seconds: number; tableRequests: number }), peakKib: Number(report.trim()) });
    });
  });
}

/** Two sweeps of a synthetic tenant of `size`, each by its own process: the first (every finding new), then a steady one (nothing changed). */
async function measureSweeps(seed: TenantSnapshot, size: SyntheticSize): Promise<SweepFigures[]> {
  const tenant = syntheticTenant(seed, size);
  const started = performance.now();
  const local = await startLocalAzure({ snapshot: tenant, tls: await loadTrustedLocalTls() });
  const startSeconds = (performance.now() - started) / 1000;
  try {
    const quota = local.simulator.resourceGraph.quota;
    if (quota.queries !== DEFAULT_RESOURCE_GRAPH_QUOTA.queries || quota.windowMs !== DEFAULT_RESOURCE_GRAPH_QUOTA.windowMs) throw new Error("the sweep bench runs with Resource Graph's default quota");
    const figures: SweepFigures[] = [];
    for (const kind of ["first", "steady"] as const) {
      // Each sweep's own requests: the log is shared by both.
      const before = local.simulator.requests.length;
      const child = await runChild(local, `benchsweep${size.assignments}`);
      const requests = local.simulator.requests.slice(before);
      const routed = (prefix: string) => requests.filter((r) => r.route.startsWith(prefix));
      const graphAnswers = routed("resourceGraph.");
      // Every query Resource Graph answered counts against the quota; a 429 is the quota refusing one.
      const resourceGraphQueries = graphAnswers.filter((r) => r.status === 200).length;
      if (child.run.assignments !== tenant.roleAssignments.length) throw new Error(`the sweep judged ${child.run.assignments} of ${tenant.roleAssignments.length} assignments`);
      if (child.status !== "succeeded") throw new Error(`the ${kind} sweep's run closed ${child.status}`);
      if (kind === "steady" && child.run.findingWrites !== 0) throw new Error(`the steady sweep wrote ${child.run.findingWrites} findings of an unchanged tenant`);
      figures.push({
        ...child,
        kind,
        size,
        subscriptions: tenant.subscriptions.length,
        logRows: Object.values(tenant.logs).reduce((n, rows) => n + rows.length, 0),
        startSeconds,
        resourceGraphQueries,
        throttled: graphAnswers.filter((r) => r.status === 429).length,
        logQueries: routed("logAnalytics.").length,
        graphCalls: routed("graph.").length,
        pimCalls: routed("arm.roleAssignmentSchedule").length,
        floorSeconds: (resourceGraphQueries / quota.queries) * (quota.windowMs / 1000),
      });
    }
    return figures;
  } finally {
    await local.stop();
  }
}

/** The sweep section of `npm run bench`. */
export async function benchSweep(seed: TenantSnapshot): Promise<void> {
  const sizes: SyntheticSize[] = [
    { assignments: ASSIGNMENTS, principals: PRINCIPALS },
    { assignments: COMPARE_ASSIGNMENTS, principals: Math.max(1, Math.round((PRINCIPALS * COMPARE_ASSIGNMENTS) / ASSIGNMENTS)) },
  ];
  const { queries, windowMs } = DEFAULT_RESOURCE_GRAPH_QUOTA;
  console.log(`\nSweep: a synthetic tenant with logs swept by its own process through the real SDK clients against the local Azure, Resource Graph's quota (${queries} queries per ${fmt(windowMs / 1000)} s) enforced`);
  await bundleChild();
  const figures: SweepFigures[] = [];
  for (const size of sizes) {
    const measured = await measureSweeps(seed, size);
    figures.push(...measured);
    const [head] = measured;
    if (head) console.log(`  ${fmt(head.size.assignments)} assignments, ${fmt(head.size.principals)} principals, ${fmt(head.subscriptions)} subscriptions, ${fmt(head.logRows)} log rows (the local Azure started in ${fmt(head.startSeconds, 1)} s)`);
    for (const f of measured) {
      const aim = f.kind === "steady" ? "(aim: ≤ 1.3×)" : "(bounded by Table writes)";
      console.log(`   ${f.kind === "first" ? "first sweep (every finding new)" : "steady sweep (nothing changed)"}: ${f.shards} shards`);
      console.log(`    duration ${fmt(f.seconds, 1)} s over the quota floor of ${fmt(f.floorSeconds, 1)} s (${f.resourceGraphQueries} Resource Graph queries ÷ ${queries} × ${fmt(windowMs / 1000)} s; ${f.throttled} answered 429)   ${fmt(f.seconds / f.floorSeconds, 2)}× the floor   ${aim}`);
      console.log(`    Log Analytics queries ${f.logQueries}   (aim: ≤ 3)`);
      const perChange = f.run.findingWrites > 0 ? fmt(f.tableRequests / f.run.findingWrites, 3) : "— (none changed)";
      console.log(`    Table transactions per changed finding ${perChange}   (${fmt(f.tableRequests)} requests for ${fmt(f.run.findingWrites)} findings written, ${fmt(f.run.partitions)} partitions)`);
      console.log(`    peak RSS of the sweeping process ${mib(f.peakKib)}   (aim: ≤ 400 MiB)`);
      console.log(`    beside them: ${fmt(f.graphCalls)} Graph calls, ${fmt(f.pimCalls)} ARM PIM list pages; ${Object.entries(f.phases).map(([name, s]) => `${name} ${fmt(s, 1)} s`).join(", ")}`);
    }
  }
  const large = figures.find((f) => f.kind === "steady" && f.size === sizes[0]);
  const small = figures.find((f) => f.kind === "steady" && f.size === sizes[1]);
  if (large && small) {
    const ratio = large.peakKib / small.peakKib;
    console.log(`  peak RSS at ${fmt(large.size.assignments)} against ${fmt(small.size.assignments)} assignments: ${mib(large.peakKib)} against ${mib(small.peakKib)} (steady sweeps), ${fmt(ratio, 2)}× for ${fmt(large.size.assignments / small.size.assignments, 1)}× the tenant (aim: flat)`);
  }
}
