import { describe, expect, it } from "vitest";
import { overlappingTrailDrain, type TrailDrain, type TrailMarker, type TrailMarkerStore } from "../../../shared/audit/trail.js";

// The event path's stores start their trail drains without waiting for them, and the invocation
// waits for them at its end: the appends overlap the alerts instead of lengthening the judgement.

describe("a trail drain that overlaps the rest of the invocation", () => {
  const store = {} as TrailMarkerStore;
  const markers = (n: number) => Array.from({ length: n }, () => ({}) as TrailMarker);

  it("returns at once, and settled() waits for every drain started, however many", async () => {
    const finish: (() => void)[] = [];
    const drained: number[] = [];
    const slow: TrailDrain = (_store, waiting) => new Promise<void>((resolve) => finish.push(() => (drained.push(waiting.length), resolve())));
    const trail = overlappingTrailDrain(slow);
    await trail.drain(store, markers(1));
    await trail.drain(store, markers(2));
    expect(drained).toEqual([]);
    let settled = false;
    const waiting = trail.settled().then(() => void (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    finish[1]!();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    finish[0]!();
    await waiting;
    expect(drained).toEqual([2, 1]);
    // Nothing left running: settled() answers at once.
    await trail.settled();
  });
});
