import type { AzureService } from "./errors.js";
import type { Io } from "./io.js";

/** What a verb runs with: the terminal, and a list it adds each Azure service to before reaching it (so a refusal names the service and the permission). */
export interface VerbContext {
  readonly io: Io;
  readonly azure: AzureService[];
}

/** One verb of the command line (grantguard <verb>): its usage and how it runs. */
export interface Verb {
  readonly usage: string;
  /** Runs the verb; returns the exit code, throws whatever failed (the dispatcher explains it). */
  run(argv: readonly string[], context: VerbContext): Promise<number>;
}
