import { BUILT_IN_POLICIES_DIR } from "../../config.js";
import { loadPolicyPack } from "../../policy/load.js";
import { runPolicyTests } from "../../policy/testing.js";
import { parse } from "../args.js";
import { json } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard test [DIR] [--json]

Runs the test cases in every policy file of DIR (default: the built-in pack; several
directories separated by commas): one line per case, then "N passed, N failed".
Exit 1 when a case fails, 2 when a file is invalid.`;

/** grantguard test: every policy's own test cases. */
export const test: Verb = {
  usage,

  async run(argv, { io }) {
    const { values, positionals } = parse(argv, { json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const pack = await loadPolicyPack(positionals[0] ?? BUILT_IN_POLICIES_DIR);
    const results = runPolicyTests(pack.policies);
    const passed = results.filter((r) => r.passed).length;
    if (values.json) {
      io.out(json({ results, passed, failed: results.length - passed }));
    } else {
      for (const r of results) {
        io.out(`${r.passed ? "✓" : "✗"} ${r.policyId} › ${r.name}${r.passed ? "" : ` — expected ${r.expected}, got ${r.actual}${r.detail ? ` (${r.detail})` : ""} [${r.file}]`}`);
      }
      io.out(`\n${passed} passed, ${results.length - passed} failed`);
    }
    return passed === results.length ? EXIT.ok : EXIT.testsFailed;
  },
};
