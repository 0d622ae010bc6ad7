import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    // Two test files at a time: most suites wait on Redis servers and child processes, so on the 2-core CI
    // machine this halves the run (7.7 -> 4.8 min) while the timing bounds keep their margins.
    maxWorkers: 2,
    // The summary reporter prints the plain `N passed, N failed` line CI reads; it goes last.
    reporters: ["default", "./scripts/summary-reporter.ts"],
  },
})
