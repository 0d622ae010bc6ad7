import { defineProject, type UserWorkspaceConfig } from "vitest/config"

/**
 * The Vitest project config every package and app shares: its name (for
 * `--project <name>`), its tests under `test/`, and the `@strata/source`
 * export condition so workspace packages are tested from their sources.
 */
export const project = (name: string, test: UserWorkspaceConfig["test"] = {}) =>
  defineProject({
    resolve: { conditions: ["@strata/source"] },
    ssr: { resolve: { conditions: ["@strata/source"] } },
    test: { name, include: ["test/**/*.test.ts"], ...test },
  })
