// The single list of test projects: one per package or app. The root
// vitest.config.ts imports it into `test.projects` (Vitest 4 no longer reads
// this file on its own), so `pnpm test` runs them all and
// `pnpm test --project core` runs one.
export default [
  "packages/core",
  "packages/testkit",
  "packages/redis",
  "packages/patterns",
  "packages/ratelimit",
  "packages/http",
  "apps/shop",
  "docs",
]
