import { count } from "./format.js";
import type { Io } from "./io.js";

/** A progress bar on the terminal's status line. */
export interface Progress {
  /** Reports how far the work is; drawn at most ten times a second (`note` is asked only then). */
  update(done: number, total: number, note?: () => string): void;
  /** Clears the bar. */
  finish(): void;
}

const REDRAW_MS = 100;

/** Formats seconds as "42s" or "3m05s". */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** One line: label, bar, percentage, counts, a note and the time left, fitted to the terminal's width. */
export function renderProgress(label: string, done: number, total: number, elapsedMs: number, columns: number, note = ""): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const left = done > 0 && fraction < 1 ? ` · ${duration(((elapsedMs / done) * (total - done)) / 1000)} left` : "";
  const text = ` ${Math.floor(fraction * 100)}% ${count(done)}/${count(total)}${note ? ` · ${note}` : ""}${left}`;
  const width = Math.max(10, Math.min(40, columns - label.length - text.length - 4));
  const filled = Math.round(fraction * width);
  const line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}]${text}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** A progress bar on stderr's status line; `now` is injectable for tests. */
export function progressBar(io: Io, label: string, now: () => number = Date.now): Progress {
  const started = now();
  let drawn = -Infinity;
  return {
    update(done, total, note) {
      const at = now();
      if (at - drawn < REDRAW_MS && done < total) return;
      drawn = at;
      io.status(renderProgress(label, done, total, at - started, io.terminal.columns, note?.()));
    },
    finish() {
      io.status("");
    },
  };
}
