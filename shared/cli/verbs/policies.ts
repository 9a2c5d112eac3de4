import { BUILT_IN_POLICIES_DIR } from "../../config.js";
import { loadPolicyPack, type PolicyPack } from "../../policy/load.js";
import { SEVERITIES } from "../../model/severity.js";
import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { json, table } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

type Policy = PolicyPack["policies"][number];

const rank = (p: Policy) => SEVERITIES.indexOf(p.severity);

/** What `policies list --json` and `policies show` print about one policy. */
function summary(p: Policy) {
  return {
    id: p.id,
    title: p.title,
    severity: p.severity,
    action: p.action,
    description: p.description.trim(),
    references: p.references,
    condition: p.condition.trim(),
    parameters: p.parameters,
    reads: p.reads,
    tests: p.tests.map((t) => ({ name: t.name, expect: t.expect })),
    file: p.file,
  };
}

const usage = `Usage: grantguard policies list [--policies DIRS] [--json]
       grantguard policies show ID [--policies DIRS] [--json]

Lists the loaded policies (most severe first) with the facts each condition reads, or shows
one in full. --policies takes directories separated by commas (default: the built-in pack).`;

/** grantguard policies list | show ID: what is loaded, and the facts each policy reads. */
export const policies: Verb = {
  usage,

  async run(argv, { io }) {
    const { values, positionals } = parse(argv, { policies: { type: "string" }, json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const [command, id] = positionals;
    if (command !== "list" && command !== "show") throw new UsageError(command ? `unknown policies command '${command}' (list or show)` : "policies needs list or show");
    const pack = await loadPolicyPack(stringOption(values.policies) ?? BUILT_IN_POLICIES_DIR);
    if (command === "list") {
      const list = [...pack.policies].sort((a, b) => rank(b) - rank(a) || a.id.localeCompare(b.id));
      if (values.json) io.out(json({ policies: list.map(summary) }));
      else io.out(table(["ID", "SEVERITY", "ACTION", "READS"], list.map((p) => [p.id, p.severity, p.action, p.reads.join(", ")])));
      return EXIT.ok;
    }
    if (!id) throw new UsageError("policies show needs a policy id");
    const policy = pack.policies.find((p) => p.id === id);
    if (!policy) throw new UsageError(`no policy '${id}' in ${pack.dir} (grantguard policies list shows them)`);
    const s = summary(policy);
    if (values.json) {
      io.out(json(s));
      return EXIT.ok;
    }
    io.out(
      [
        `${s.id} — ${s.title}`,
        `severity: ${s.severity}    action: ${s.action}    file: ${s.file}`,
        "",
        s.description,
        "",
        `condition: ${s.condition}`,
        `reads: ${s.reads.join(", ")}`,
        ...(Object.keys(s.parameters).length ? [`parameters: ${Object.entries(s.parameters).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")}`] : []),
        `references:${s.references.map((r) => `\n  - ${r}`).join("")}`,
        `tests:${s.tests.map((t) => `\n  - ${t.name} (${t.expect})`).join("")}`,
      ].join("\n"),
    );
    return EXIT.ok;
  },
};
