import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { runtime as getRuntime } from "./runtime.js";
import { describeOutcome } from "../shared/usecases/describe.js";

/**
 * Event Grid trigger for Microsoft.Authorization/roleAssignments write and delete events.
 * Azure failures propagate: the invocation fails and Event Grid redelivers the event.
 */
export async function judgeGrantEventHandler(event: EventGridEvent | unknown, context: InvocationContext): Promise<void> {
  const runtime = await getRuntime();
  const outcome = await runtime.judgeGrantEvent(event);
  for (const line of describeOutcome(outcome)) context.log(line);
  // Alerts that could not be sent now stay in the outbox; the dispatchAlerts timer retries them.
  if ("error" in outcome.alerts) context.warn(`alerts not sent yet (kept in the outbox): ${outcome.alerts.error}`);
  else if (outcome.alerts.delivered || outcome.alerts.retrying || outcome.alerts.failed) context.log(`  ALERTS delivered ${outcome.alerts.delivered}, retrying ${outcome.alerts.retrying}, failed ${outcome.alerts.failed}`);
}
