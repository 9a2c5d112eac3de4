import { BUILT_IN_POLICIES_DIR } from "../../config.js";
import { loadExemptions } from "../../policy/exemptions.js";
import { loadPolicyDir } from "../../policy/load.js";
import { parse } from "../args.js";
import { json } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard validate [DIR] [--json]

Loads every policy file and exemptions.yaml of DIR (default: the built-in pack) and reports
every error as file:line [policy id]: message. Exit 2 when a file is invalid.`;

/** grantguard validate: policy and exemption files, every error with file:line. */
export const validate: Verb = {
  usage,

  async run(argv, { io }) {
    const { values, positionals } = parse(argv, { json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const dir = positionals[0] ?? BUILT_IN_POLICIES_DIR;
    const result = await loadPolicyDir(dir);
    const exemptions = await loadExemptions(dir, new Set(result.policies.map((p) => p.id)));
    const errors = [...(result.status === "invalid" ? result.errors : []), ...exemptions.errors];
    if (values.json) {
      io.out(json({ valid: errors.length === 0, policies: result.policies.length, exemptions: exemptions.exemptions.length, errors: errors.map((e) => ({ file: e.file, line: e.line ?? null, policyId: e.policyId ?? null, message: e.detail })) }));
    } else {
      for (const e of errors) io.err(e.message);
      io.out(errors.length ? `${errors.length} error(s) in ${dir}` : `${result.policies.length} policies and ${exemptions.exemptions.length} exemption(s) in ${dir} are valid`);
    }
    return errors.length ? EXIT.invalid : EXIT.ok;
  },
};
