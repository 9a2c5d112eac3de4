// Preloaded into a measured process (node --import): reports its peak resident memory, in KiB,
// on file descriptor 3 as it exits, so the bench measures the real command line unchanged.
import { writeSync } from "node:fs";
import process from "node:process";

process.on("exit", () => {
  try {
    writeSync(3, `${process.resourceUsage().maxRSS}\n`);
  } catch {
    // Run without the bench's pipe on fd 3: nothing to report to.
  }
});
