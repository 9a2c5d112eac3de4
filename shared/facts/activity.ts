// What the logs say about principals, in the shapes the sweep's facts are built from. Two
// sources answer the same questions: a tenant snapshot's `logs` section (offline, tests) and
// Log Analytics through KQL files (the live sweep). Facts a source cannot know stay null.

/** The last successful sign-in of one principal (user or service principal, by object id). */
export interface SignInRecord {
  readonly principalId: string;
  /** ISO 8601. */
  readonly lastSignIn: string;
  /** The table it came from: SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs or AADManagedIdentitySignInLogs. */
  readonly source: string;
}

/** One operation (AzureActivity OperationNameValue) a caller used in the lookback window. */
export interface OperationUse {
  /** The caller as AzureActivity records it: an object id for applications, a UPN or object id for users. */
  readonly caller: string;
  /** Lower-cased, e.g. "microsoft.compute/virtualmachines/start/action". */
  readonly operation: string;
  readonly count: number;
  /** ISO 8601. */
  readonly lastUsed: string;
}

/** A role assignment written by a caller from an address (AzureActivity roleAssignments/write, successful). */
export interface GrantRecord {
  readonly caller: string;
  readonly callerIpAddress: string | null;
  /** ISO 8601. */
  readonly time: string;
  /** The assignment's id (lower-cased `_ResourceId`), when the record names it. */
  readonly assignmentId: string | null;
}

/** A log answer: complete, partial (Log Analytics' PartialFailure: never used as if complete), or unavailable. */
export type LogAnswer<T> =
  | { readonly status: "complete"; readonly value: T }
  | { readonly status: "partial"; readonly value: T; readonly error: string }
  | { readonly status: "unavailable"; readonly reason: string };

/** The questions a sweep asks the logs; each is one query, whatever the number of principals. */
export interface ActivityLogs {
  /** The last successful sign-in of every principal seen in the window. */
  lastSignIns(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly SignInRecord[]>>;
  /** What each caller did (administrative writes and actions) in the window. */
  operations(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly OperationUse[]>>;
  /** Every successful role-assignment write in the window (the baseline and the recent ones). */
  grants(options: { readonly lookbackDays: number }): Promise<LogAnswer<readonly GrantRecord[]>>;
}
