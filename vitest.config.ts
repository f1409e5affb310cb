import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Debug checks of the apiserver's no-decode paths (watch cache hand-off, objects read back
    // from their write): each decodes anyway and throws on any difference.
    env: { TUG_VERIFY_HANDOFF: "1" },
  },
});
