import { spawn } from "node:child_process";
import { RelaunchNeeded } from "./errors.js";
import { processIo } from "./io.js";
import { run } from "./main.js";

/** Runs this same command line again in a new Node process with more environment variables; resolves to its exit code. */
function relaunch(env: Readonly<Record<string, string>>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env: { ...process.env, ...env } });
    // Ctrl-C reaches both processes from the terminal; this one waits for the child's answer.
    const ignore = () => undefined;
    process.on("SIGINT", ignore);
    child.once("error", () => resolve(70));
    child.once("exit", (code, signal) => {
      process.removeListener("SIGINT", ignore);
      resolve(code ?? (signal ? 130 : 70));
    });
  });
}

/** The process entry point of `grantguard`: runs the command line on this process's terminal and returns the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const io = processIo();
  return run(argv, io, {
    // Only the entry point may start a new process; in-process callers get the failure explained.
    relaunch: (request: RelaunchNeeded) => relaunch(request.env),
  });
}
