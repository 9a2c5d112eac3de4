import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Workers are separate processes started after globalSetup: they inherit NODE_EXTRA_CA_CERTS.
    pool: "forks",
    globalSetup: ["test/support/globalSetup.ts"],
    reporters: ["default", "./test/support/summaryReporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
