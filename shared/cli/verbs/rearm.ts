import { parse, stringOption } from "../args.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard rearm --reason TEXT

Re-arms revocation after the blast-radius cap stopped it (GRANTGUARD_MAX_REVOCATIONS in
GRANTGUARD_REVOCATION_WINDOW_MINUTES), recording who and why. Needs Storage Table Data
Contributor on grantguard's storage account (GRANTGUARD_TABLE_ENDPOINT), or a running npm start.`;

/** grantguard rearm: lets revocation run again after the cap tripped. */
export const rearm: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values } = parse(argv, { reason: { type: "string" } });
    if (values.help) return io.out(usage), EXIT.ok;
    const reason = stringOption(values.reason);
    if (reason === undefined) throw new UsageError("rearm needs --reason");
    if (reason.trim().length < 10) throw new UsageError("say why revocation is safe again (--reason, 10 characters at least): it is recorded");
    const [{ connectOperator }, { rearmRevocation }] = await Promise.all([import("../azure.js"), import("../../usecases/restoreAssignment.js")]);
    const operator = await connectOperator(context, { tables: "Storage Table Data Contributor on grantguard's storage account" });
    const who = await operator.who();
    const result = await rearmRevocation({ revocations: operator.revocations, now: () => new Date() }, { reason, requestedBy: who });
    io.out(result.wasTripped ? `revocation re-armed by ${who}: ${result.breaker.rearmReason}` : "revocation was not stopped; recorded the re-arm anyway");
    return EXIT.ok;
  },
};
