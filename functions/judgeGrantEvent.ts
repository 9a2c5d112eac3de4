import functions from "@azure/functions";
import type { EventGridEvent, InvocationContext } from "@azure/functions";
import { getRuntime } from "../shared/runtime.js";
import { describeOutcome } from "../shared/usecases/describe.js";

/**
 * Event Grid trigger for Microsoft.Authorization/roleAssignments write and delete events.
 * Azure failures propagate: the invocation fails and Event Grid redelivers the event.
 */
export async function judgeGrantEventHandler(event: EventGridEvent | unknown, context: InvocationContext): Promise<void> {
  const runtime = await getRuntime();
  const outcome = await runtime.judgeGrantEvent(event);
  for (const line of describeOutcome(outcome)) context.log(line);
}

functions.app.eventGrid("judgeGrantEvent", { handler: judgeGrantEventHandler });
