/** Exit codes a pipeline can rely on (the README promises them). */
export const EXIT = {
  ok: 0,
  /** Open findings at or above --fail-on, or failed policy test cases. */
  findings: 1,
  testsFailed: 1,
  /** An invalid policy, exemption, snapshot or event file, or a request that names nothing to act on. */
  invalid: 2,
  /** Azure failed, refused, or could not be reached, or no Azure credential was found. */
  azure: 3,
  /** Bad usage: unknown command or option, a missing argument or setting. */
  usage: 64,
  /** grantguard itself failed (not built, or a defect): never confused with "findings". */
  internal: 70,
} as const;

/** What a verb may do to its terminal: print lines, stream output, and show a live status line. */
export interface Io {
  /** Prints one line on stdout. */
  out(text: string): void;
  /** Prints one line on stderr. */
  err(text: string): void;
  /** Writes a chunk of stdout as is; resolves once the reader has taken it, so a slow reader slows the writer instead of filling memory. */
  write(chunk: string): Promise<void>;
  /** Rewrites the live status line on stderr ("" clears it); only shown on a terminal. */
  status(text: string): void;
  /** Whether stdout and stderr are terminals, and how wide stderr is. */
  readonly terminal: { readonly stdout: boolean; readonly stderr: boolean; readonly columns: number };
}

/** A writable stream as much of one as the process Io needs (process.stdout, process.stderr). */
interface Stream {
  write(chunk: string): boolean;
  on(event: "error", listener: () => void): unknown;
  once(event: "drain" | "error", listener: () => void): unknown;
  removeListener(event: "drain" | "error", listener: () => void): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** The Io of this process: stdout and stderr, honouring backpressure on stdout. */
export function processIo(stdout: Stream = process.stdout, stderr: Stream = process.stderr): Io {
  let statusShown = false;
  // A reader that went away (`| head`) closes stdout: the run goes on to its real exit code, its
  // output dropped, rather than stopping with exit 0 or an EPIPE stack trace.
  let closed = false;
  stdout.on("error", () => {
    closed = true;
  });
  const clearStatus = () => {
    if (statusShown) stderr.write("\r\x1b[2K");
    statusShown = false;
  };
  return {
    out: (text) => {
      clearStatus();
      if (!closed) stdout.write(`${text}\n`);
    },
    err: (text) => {
      clearStatus();
      stderr.write(`${text}\n`);
    },
    write: (chunk) =>
      new Promise<void>((resolve) => {
        if (closed || stdout.write(chunk)) return resolve();
        // Wait for the reader to catch up; a reader that went away ends the wait too.
        const done = () => {
          stdout.removeListener("drain", done);
          stdout.removeListener("error", done);
          resolve();
        };
        stdout.once("drain", done);
        stdout.once("error", done);
      }),
    status: (text) => {
      if (!stderr.isTTY) return;
      stderr.write(`\r\x1b[2K${text}`);
      statusShown = text !== "";
    },
    terminal: { stdout: stdout.isTTY === true, stderr: stderr.isTTY === true, columns: stderr.columns ?? 80 },
  };
}
