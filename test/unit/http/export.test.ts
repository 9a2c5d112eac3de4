import { describe, expect, it } from "vitest";
import { csvField } from "../../../shared/http/export.js";
import { parseFindingsQuery } from "../../../shared/http/params.js";

describe("CSV fields", () => {
  it("quotes commas, quotes and line breaks as RFC 4180 says, and leaves plain text alone", () => {
    expect(csvField("Owner")).toBe("Owner");
    expect(csvField('Person, "Ada"')).toBe('"Person, ""Ada"""');
    expect(csvField("line one\nline two")).toBe('"line one\nline two"');
    expect(csvField(null)).toBe("");
    expect(csvField(true)).toBe("true");
  });

  it("defuses text a spreadsheet would run as a formula", () => {
    for (const text of ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]) expect(csvField(text).replace(/^"|"$/g, "").startsWith("'")).toBe(true);
    expect(csvField("a=b")).toBe("a=b");
  });
});

describe("findings query parameters", () => {
  it("turns dates into the start of the day in UTC and ids into lower case", () => {
    const parsed = parseFindingsQuery(new URLSearchParams("from=2026-03-01&to=2026-03-02T10:00:00%2B02:00&principal=AAAAAAAA-0000-4000-8000-000000000001"), true);
    expect(parsed).toEqual({ ok: true, value: { filter: { seenFrom: "2026-03-01T00:00:00.000Z", seenTo: "2026-03-02T08:00:00.000Z", principalId: "aaaaaaaa-0000-4000-8000-000000000001" }, pageSize: 100, continuationToken: null, format: "json" } });
  });

  it("refuses a format on a list and a page size on an export", () => {
    expect(parseFindingsQuery(new URLSearchParams("format=csv"), true)).toMatchObject({ ok: false, error: expect.stringContaining("unknown query parameter 'format'") });
    expect(parseFindingsQuery(new URLSearchParams("pageSize=5"), false)).toMatchObject({ ok: false, error: expect.stringContaining("unknown query parameter 'pageSize'") });
  });
});
