// The command line as a user runs it (bin/grantguard.js, the build): how fast it starts, and
// whether `evaluate --json` keeps its memory flat however much it writes.
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TenantSnapshot } from "../shared/model/snapshot.js";
import { scaleTenant } from "./synthetic.js";

const BIN = fileURLToPath(new URL("../bin/grantguard.js", import.meta.url));
const PEAK_RSS = fileURLToPath(new URL("./peakRss.mjs", import.meta.url));
const SIZES = (process.env.BENCH_WHATIF_SIZES ?? "100000,500000").split(",").map(Number);
const STARTS = 21;

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (kib: number) => `${fmt(kib / 1024)} MiB`;

/** Median wall time of starting a Node process with these arguments until it exits. */
function startTime(args: readonly string[]): number {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Runs the command line with its stdout counted and dropped; its peak RSS (KiB), bytes written and seconds. */
function measured(args: readonly string[], expectedCode: number): Promise<{ peakKib: number; bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", PEAK_RSS, BIN, ...args], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
    let bytes = 0;
    let report = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => void (bytes += d.length));
    child.stderr!.on("data", (d: Buffer) => void (stderr += d.toString()));
    child.stdio[3]!.on("data", (d: Buffer) => void (report += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== expectedCode) reject(new Error(`grantguard ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve({ peakKib: Number(report.trim()), bytes, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** A Resource Manager write event for one assignment of a snapshot (the what-if of one event). */
function writeEvent(snapshot: TenantSnapshot): unknown {
  const a = snapshot.roleAssignments[0]!;
  return { id: "bench-event", eventType: "Microsoft.Resources.ResourceWriteSuccess", eventTime: "2026-11-21T10:00:00Z", subject: a.id, topic: "/subscriptions/bench", dataVersion: "2", metadataVersion: "1", data: { operationName: "Microsoft.Authorization/roleAssignments/write", resourceUri: a.id, tenantId: snapshot.tenantId } };
}

/** The bench of the command line: start-up time against a bare Node, and evaluate's peak memory with and without output. */
export async function benchCommandLine(seed: TenantSnapshot): Promise<void> {
  if (spawnSync(process.execPath, [BIN, "--help"], { stdio: "ignore" }).status !== 0) throw new Error("the command line is not built or is stale: run npm run build first");
  const bare = startTime(["-e", "0"]);
  const help = startTime([BIN, "--help"]);
  console.log(`\nThe command line, run as a user runs it (bin/grantguard.js, the build)`);
  console.log(`  node -e 0 (baseline)                           median ${fmt(bare, 1).padStart(6)} ms`);
  console.log(`  grantguard --help                              median ${fmt(help, 1).padStart(6)} ms   ${fmt(help / bare, 2)}× node -e 0`);

  const dir = await mkdtemp(join(tmpdir(), "grantguard-bench-"));
  try {
    const nothing = join(dir, "matches-nothing");
    await mkdir(nothing);
    await writeFile(join(nothing, "nothing.yaml"), 'id: matches-nothing\ntitle: A policy no assignment matches\nseverity: low\naction: alert\ndescription: The what-if with no output at all, to compare memory with.\ncondition: scope.level == "nowhere"\n');
    console.log(`  evaluate --json over synthetic tenants, stdout counted and dropped; peak RSS of the process:`);
    const overheads: string[] = [];
    for (const size of SIZES) {
      const tenant = join(dir, `tenant-${size}.json`);
      const scaled = scaleTenant(seed, size);
      await writeFile(tenant, JSON.stringify(scaled));
      await writeFile(join(dir, "event.json"), JSON.stringify(writeEvent(scaled)));
      const oneEvent = await measured(["evaluate", "--tenant", tenant, "--event", join(dir, "event.json"), "--json", "--fail-on", "never"], 0);
      const silent = await measured(["evaluate", "--tenant", tenant, "--policies", nothing, "--json"], 0);
      const full = await measured(["evaluate", "--tenant", tenant, "--json"], 1);
      console.log(`    ${fmt(size).padStart(7)} assignments: the whole pack ${mib(full.peakKib).padStart(9)} writing ${fmt(full.bytes / 1e6)} MB in ${fmt(full.seconds, 1)} s;` + ` a pack that matches nothing ${mib(silent.peakKib)} (no output); one event's what-if ${mib(oneEvent.peakKib)} (reading the snapshot)`);
      overheads.push(`${fmt(size)}: ${fmt(full.bytes / 1e6)} MB of output for ${full.peakKib >= silent.peakKib ? "+" : "−"}${mib(Math.abs(full.peakKib - silent.peakKib))}`);
      await rm(tenant, { force: true });
    }
    console.log(`  what the output costs over the same evaluation without output: ${overheads.join("; ")}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
