import { defineProject, type UserWorkspaceConfig } from "vitest/config"

// Workspace packages resolve to their sources through this export condition.
// Vitest resolves test files in the `ssr` environment and global setup files in
// its own `__vitest__` environment: each needs the condition, or a clone that
// was never built fails to start (the `default` export points at `dist/`).
const conditions = ["@strata/source"]

/**
 * The Vitest project config every package and app shares: its name (for
 * `--project <name>`), its tests under `test/`, and the `@strata/source`
 * export condition so workspace packages are tested from their sources, in
 * test files and in global setup files alike.
 */
export const project = (name: string, test: UserWorkspaceConfig["test"] = {}) =>
  defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    environments: { __vitest__: { resolve: { conditions } } },
    test: { name, include: ["test/**/*.test.ts"], ...test },
  })
