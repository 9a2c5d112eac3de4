import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every verb takes. */
const COMMON = {
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean" },
} as const;

/** Parses a verb's arguments strictly (unknown options are usage errors); every verb also takes --help and --verbose. */
export function parse<const T extends Options>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, ...COMMON }, allowPositionals: true, strict: true } as const);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** The value of a string option, or undefined (parseArgs types them loosely). */
export function stringOption(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
