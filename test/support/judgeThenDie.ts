// Judges one event the way the function does, but dies (SIGKILL) after the findings are written
// and before any alert is sent: the crash window the outbox must survive.
import { readFile } from "node:fs/promises";
import { createRuntime } from "../../shared/runtime.js";
import { judgeGrantEvent } from "../../shared/usecases/judgeGrantEvent.js";

const [eventFile] = process.argv.slice(2);
const runtime = await createRuntime();
const { services, pack } = runtime;
await judgeGrantEvent(JSON.parse(await readFile(eventFile!, "utf8")), {
  ...services,
  policies: pack.policies,
  exemptions: pack.exemptions,
  revocation: { revocations: services.revocations, writer: services.writer, response: runtime.config.response, selfPrincipalId: async () => null, raise: async () => undefined, now: () => new Date() },
  now: () => new Date(),
});
process.kill(process.pid, "SIGKILL");
