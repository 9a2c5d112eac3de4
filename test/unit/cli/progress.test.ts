import { describe, expect, it } from "vitest";
import { progressBar, renderProgress } from "../../../shared/cli/progress.js";
import { captureIo } from "../../support/cli.js";

describe("renderProgress", () => {
  it("shows the share done as a bar, the counts, a note and the time left", () => {
    expect(renderProgress("evaluating", 250_000, 500_000, 10_000, 120, "260,117 findings")).toBe("evaluating [####################....................] 50% 250,000/500,000 · 260,117 findings · 10s left");
    expect(renderProgress("evaluating", 500_000, 500_000, 20_000, 120)).toBe("evaluating [########################################] 100% 500,000/500,000");
  });

  it("fits a narrow terminal", () => {
    expect(renderProgress("evaluating", 1, 3, 1000, 50, "1 findings").length).toBeLessThan(50);
  });
});

describe("progressBar", () => {
  it("redraws at most ten times a second, always the last step, and clears the line when finished", () => {
    const { io, result } = captureIo({ stderr: true });
    let now = 0;
    const bar = progressBar(io, "evaluating", () => now);
    for (let done = 1; done <= 1000; done++) {
      now = done; // 1 ms per step: one second in all
      bar.update(done, 1000);
    }
    bar.finish();
    expect(result.statuses.length).toBeLessThanOrEqual(12);
    expect(result.statuses.at(-2)).toContain("100% 1,000/1,000");
    expect(result.statuses.at(-1)).toBe("");
  });
});
