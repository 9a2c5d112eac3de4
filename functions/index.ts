import type { EventGridHandler, HttpHandler, HttpMethod, StorageQueueHandler, TimerHandler } from "@azure/functions";
import { drainAuditTrailHandler, signAuditDigestHandler } from "./auditTrail.js";
import { exportAuditHandler, listAuditHandler } from "./auditApi.js";
import { sweepShardHandler, sweepShardPoisonHandler } from "./sweepShard.js";
import { sweepTenantHandler } from "./sweepTenant.js";
import { dispatchAlertsHandler } from "./dispatchAlerts.js";
import { judgeGrantEventHandler } from "./judgeGrantEvent.js";
import { restoreAssignmentHandler } from "./restoreAssignment.js";
import { sendAlertDigestHandler } from "./sendAlertDigest.js";
import { STORAGE_CONNECTION, SWEEP_QUEUE } from "../shared/usecases/sweepQueue.js";
import { listFindingsHandler } from "./listFindings.js";
import { exportFindingsHandler } from "./exportFindings.js";
import { getFindingHandler } from "./getFinding.js";
import { acknowledgeFindingHandler, exemptFindingHandler } from "./decideFinding.js";
import { accessHistoryHandler } from "./accessHistory.js";
import { openApiHandler, pageHandler } from "./page.js";

/** An Event Grid–triggered function, served at /runtime/webhooks/EventGrid?functionName={name}. */
export interface EventGridRegistration {
  readonly name: string;
  readonly trigger: "eventGrid";
  readonly handler: EventGridHandler<unknown>;
}

/** An HTTP-triggered function, served at /api/{route}. */
export interface HttpRegistration {
  readonly name: string;
  readonly trigger: "http";
  readonly handler: HttpHandler;
  readonly methods: readonly HttpMethod[];
  readonly route: string;
  readonly authLevel: "anonymous" | "function" | "admin";
}

/** A timer-triggered function: an NCRONTAB schedule (or %SETTING%) for the Functions host, a short period for the dev host (null: only when fired). */
export interface TimerRegistration {
  readonly name: string;
  readonly trigger: "timer";
  readonly handler: TimerHandler;
  readonly schedule: string;
  readonly localPeriodMs: number | null;
}

/** A Storage-queue–triggered function; `connection` names the identity-based settings prefix ({connection}__queueServiceUri). */
export interface StorageQueueRegistration {
  readonly name: string;
  readonly trigger: "storageQueue";
  readonly handler: StorageQueueHandler;
  readonly queueName: string;
  readonly connection: string;
}

/** One function of the app, as data: functions/app.ts registers it with the Functions host, the dev host serves it. */
export type FunctionRegistration = EventGridRegistration | HttpRegistration | TimerRegistration | StorageQueueRegistration;


/** Every function of the app. Nothing here calls the Functions host: importing this list has no side effect. */
export const functionRegistrations: readonly FunctionRegistration[] = [
  { name: "judgeGrantEvent", trigger: "eventGrid", handler: judgeGrantEventHandler },
  { name: "restoreAssignment", trigger: "http", handler: restoreAssignmentHandler, methods: ["POST"], authLevel: "anonymous", route: "revocations/{id}/restore" },
  // The auditors' API: each function validates the caller's Entra ID access token itself (anonymous at the host level).
  // Literal routes before parameterised ones, as the host's routing prefers them.
  { name: "listFindings", trigger: "http", handler: listFindingsHandler, methods: ["GET"], authLevel: "anonymous", route: "findings" },
  { name: "exportFindings", trigger: "http", handler: exportFindingsHandler, methods: ["GET"], authLevel: "anonymous", route: "findings/export" },
  { name: "getFinding", trigger: "http", handler: getFindingHandler, methods: ["GET"], authLevel: "anonymous", route: "findings/{id}" },
  { name: "acknowledgeFinding", trigger: "http", handler: acknowledgeFindingHandler, methods: ["POST"], authLevel: "anonymous", route: "findings/{id}/acknowledge" },
  { name: "exemptFinding", trigger: "http", handler: exemptFindingHandler, methods: ["POST"], authLevel: "anonymous", route: "findings/{id}/exempt" },
  { name: "accessHistory", trigger: "http", handler: accessHistoryHandler, methods: ["GET"], authLevel: "anonymous", route: "access" },
  { name: "openApi", trigger: "http", handler: openApiHandler, methods: ["GET"], authLevel: "anonymous", route: "openapi.json" },
  { name: "page", trigger: "http", handler: pageHandler, methods: ["GET"], authLevel: "anonymous", route: "page" },
  { name: "pageFile", trigger: "http", handler: pageHandler, methods: ["GET"], authLevel: "anonymous", route: "page/{file}" },
  // Local periods stand in for the schedules (every minute, every hour) so a demo sees them run.
  { name: "dispatchAlerts", trigger: "timer", handler: dispatchAlertsHandler, schedule: "0 * * * * *", localPeriodMs: 2_000 },
  { name: "sendAlertDigest", trigger: "timer", handler: sendAlertDigestHandler, schedule: "0 0 * * * *", localPeriodMs: 30_000 },
  { name: "listAudit", trigger: "http", handler: listAuditHandler, methods: ["GET"], authLevel: "anonymous", route: "audit" },
  { name: "exportAudit", trigger: "http", handler: exportAuditHandler, methods: ["GET"], authLevel: "anonymous", route: "audit/export" },
  { name: "drainAuditTrail", trigger: "timer", handler: drainAuditTrailHandler, schedule: "30 * * * * *", localPeriodMs: 5_000 },
  { name: "signAuditDigest", trigger: "timer", handler: signAuditDigestHandler, schedule: "0 5 * * * *", localPeriodMs: 30_000 },
  // The standing sweep: daily by default (the app setting holds the schedule); locally only when fired (npm start -- --sweep).
  { name: "sweepTenant", trigger: "timer", handler: sweepTenantHandler, schedule: "%GRANTGUARD_SWEEP_SCHEDULE%", localPeriodMs: null },
  { name: "sweepShard", trigger: "storageQueue", handler: sweepShardHandler, queueName: SWEEP_QUEUE, connection: STORAGE_CONNECTION },
  { name: "sweepShardPoison", trigger: "storageQueue", handler: sweepShardPoisonHandler, queueName: `${SWEEP_QUEUE}-poison`, connection: STORAGE_CONNECTION },
];
