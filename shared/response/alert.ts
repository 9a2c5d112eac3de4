import { createHash } from "node:crypto";
import type { Severity } from "../model/severity.js";

/** The state change an alert announces. */
export type AlertTransition =
  /** A policy newly matches an assignment (or matches again after being resolved). */
  | "opened"
  /** A match is accepted by an exemption. */
  | "exempted"
  /** The match no longer holds (assignment deleted or changed, exemption ended the other way). */
  | "resolved";

/** What grantguard did about the finding, told plainly in every alert. */
export type ResponseTaken =
  | { readonly kind: "alerted" }
  | { readonly kind: "revoking"; readonly detail: string }
  | { readonly kind: "revoked"; readonly backupId: string }
  | { readonly kind: "wouldRevoke"; readonly detail: string }
  | { readonly kind: "revocationBlocked"; readonly detail: string }
  | { readonly kind: "revocationFailed"; readonly detail: string };

/** One alert, independent of the channel that carries it. */
export interface Alert {
  /** Idempotency key: the same state change of the same finding always has the same id. */
  readonly id: string;
  readonly findingId: string;
  readonly transition: AlertTransition;
  /** When the state changed (the event's time). */
  readonly at: string;
  readonly severity: Severity;
  readonly policyId: string;
  readonly policyTitle: string;
  /** What matched, in words, with the facts' values. */
  readonly reason: string;
  readonly principal: { readonly id: string; readonly type: string; readonly name: string | null };
  readonly role: { readonly id: string; readonly name: string };
  readonly scope: string;
  readonly scopeLevel: string;
  readonly subscriptionId: string | null;
  readonly grantedBy: string | null;
  readonly grantedByIpAddress: string | null;
  readonly mode: "audit" | "enforce";
  readonly response: ResponseTaken;
  /** How to look the finding up. */
  readonly lookup: { readonly findingId: string; readonly command: string; readonly portalUrl: string };
}

/** The idempotency key of a finding's state change. */
export function alertId(findingId: string, transition: AlertTransition, at: string): string {
  return createHash("sha256").update(`${findingId}|${transition}|${at}`).digest("hex").slice(0, 32);
}

/** The Azure portal page listing the role assignments of a scope. */
export function portalUrl(scope: string): string {
  return `https://portal.azure.com/#@/resource${scope === "/" ? "" : scope}/users`;
}
