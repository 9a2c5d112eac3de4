import type { SeededRandom } from "./random.js";

// Every date in the demo tenant is computed from one fixed reference time, never from the clock.

/** The demo tenant's "now": 2026-11-20T00:00:00Z. */
const REF_MS = Date.UTC(2026, 10, 20, 0, 0, 0);
const DAY_MS = 86_400_000;

/** ISO timestamp `days` (fractional allowed) before the reference time. */
export function ago(days: number): string {
  return new Date(REF_MS - Math.round(days * DAY_MS)).toISOString();
}

/** ISO timestamp `days` after the reference time. */
export function ahead(days: number): string {
  return new Date(REF_MS + Math.round(days * DAY_MS)).toISOString();
}

/** Random instant between `minDays` and `maxDays` ago, with a random time of day. */
export function agoBetween(random: SeededRandom, minDays: number, maxDays: number): string {
  return ago(minDays + random.next() * (maxDays - minDays));
}

/** How many days (fractional) before the reference time `iso` is. */
export function daysAgo(iso: string): number {
  return (REF_MS - Date.parse(iso)) / DAY_MS;
}
