import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, StoreCorruptError } from "../../../shared/errors.js";
import { httpFailureOf } from "../../../shared/http/errors.js";
import { RoleAssignmentConflictError, RoleAssignmentWriteRefusedError } from "../../../shared/response/writer.js";

describe("httpFailureOf", () => {
  it("maps each typed error to the status a caller acts on, and leaves defects to fail", () => {
    expect(httpFailureOf(new NotFoundError("no revocation 'x'"))?.status).toBe(404);
    expect(httpFailureOf(new ConflictError("nothing was deleted"))?.status).toBe(409);
    expect(httpFailureOf(new RoleAssignmentConflictError("exists", 409))?.status).toBe(409);
    expect(httpFailureOf(new RoleAssignmentWriteRefusedError("AuthorizationFailed", 403))?.status).toBe(403);
    expect(httpFailureOf(Object.assign(new Error("InvalidAuthenticationToken"), { statusCode: 401 }))?.status).toBe(403);
    expect(httpFailureOf(new StoreCorruptError("finding x is malformed"))).toBeNull();
    expect(httpFailureOf(new TypeError("a bug"))).toBeNull();
  });
});
