import { z } from "zod";
import { parse } from "../args.js";
import { UsageError } from "../errors.js";
import { json, table } from "../format.js";
import { EXIT } from "../io.js";
import type { Verb } from "../verb.js";

const usage = `Usage: grantguard alerts list [--status pending|digest|delivered|failed] [--json]

Lists alert deliveries from the outbox: channel, status, attempts and the last error, so
alerts that keep failing are visible. Reads GRANTGUARD_TABLE_ENDPOINT with your Azure sign-in
(Storage Table Data Reader), or the local Azure of a running npm start.`;

const statusSchema = z.enum(["pending", "digest", "delivered", "failed"]).optional();

/** grantguard alerts list: the outbox's deliveries, failures first to see. */
export const alerts: Verb = {
  usage,

  async run(argv, context) {
    const { io } = context;
    const { values, positionals } = parse(argv, { status: { type: "string" }, json: { type: "boolean" } });
    if (values.help) return io.out(usage), EXIT.ok;
    if (positionals[0] !== "list") throw new UsageError(positionals[0] ? `unknown alerts command '${positionals[0]}' (list)` : "alerts needs list");
    const status = statusSchema.safeParse(values.status);
    if (!status.success) throw new UsageError("--status must be pending, digest, delivered or failed");
    const { connectOperator } = await import("../azure.js");
    const operator = await connectOperator(context, { tables: "Storage Table Data Reader on grantguard's storage account" });
    const list = await operator.deliveries.list(status.data ? { status: status.data } : {});
    if (values.json) {
      io.out(json({ alerts: list.map(({ payload, ...d }) => ({ ...d, alert: JSON.parse(payload) as unknown })) }));
      return EXIT.ok;
    }
    io.out(table(["ALERT", "CHANNEL", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"], list.map((d) => [d.alertId, d.channel, d.status, String(d.attempts), d.createdAt, d.lastError ?? ""])));
    const failed = list.filter((d) => d.status === "failed").length;
    io.out(`\n${list.length} deliveries${failed ? `, ${failed} FAILED (they gave up after GRANTGUARD_ALERT_MAX_ATTEMPTS tries)` : ""}`);
    return EXIT.ok;
  },
};
