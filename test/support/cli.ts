import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { run } from "../../shared/cli/main.js";
import type { Io } from "../../shared/cli/io.js";

/** What a run printed: stdout (lines and streamed chunks, in order), stderr, and the status lines a terminal would have shown. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
  statuses: string[];
  /** Every chunk written through Io.write, as written. */
  chunks: string[];
}

/** An Io that captures everything, as a file or pipe would (or a terminal, with `terminal`). */
export function captureIo(terminal: Partial<Io["terminal"]> = {}): { io: Io; result: Omit<CliRun, "code"> } {
  const result = { out: "", err: "", statuses: [] as string[], chunks: [] as string[] };
  const io: Io = {
    out: (t) => void (result.out += `${t}\n`),
    err: (t) => void (result.err += `${t}\n`),
    write: async (chunk) => {
      result.chunks.push(chunk);
      result.out += chunk;
    },
    status: (t) => void result.statuses.push(t),
    terminal: { stdout: false, stderr: false, columns: 80, ...terminal },
  };
  return { io, result };
}

/** Runs the grantguard command line in-process and captures what it prints. */
export async function grantguard(...argv: string[]): Promise<CliRun> {
  const { io, result } = captureIo();
  const code = await run(argv, io);
  return { code, ...result };
}

/** Runs bin/grantguard.js (the build, as a user runs it) in a child process with this environment. */
export function grantguardBin(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL("../../bin/grantguard.js", import.meta.url)), ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
