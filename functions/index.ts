import { dispatchAlertsHandler } from "./dispatchAlerts.js";
import { judgeGrantEventHandler } from "./judgeGrantEvent.js";
import { restoreAssignmentHandler } from "./restoreAssignment.js";
import { sendAlertDigestHandler } from "./sendAlertDigest.js";

/** Every function of the app, as the Functions host registers them: the dev host serves the same list. */
export const functionRegistrations = [
  { name: "judgeGrantEvent", trigger: "eventGrid", handler: judgeGrantEventHandler },
  { name: "restoreAssignment", trigger: "http", handler: restoreAssignmentHandler, methods: ["POST"], route: "revocations/{id}/restore" },
  // Local periods stand in for the NCRONTAB schedules (every minute, every hour) so a demo sees them run.
  { name: "dispatchAlerts", trigger: "timer", handler: dispatchAlertsHandler, localPeriodMs: 2_000 },
  { name: "sendAlertDigest", trigger: "timer", handler: sendAlertDigestHandler, localPeriodMs: 30_000 },
] as const;
