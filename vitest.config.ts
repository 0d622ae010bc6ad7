import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    // The summary reporter prints the plain `N passed, N failed` line CI reads; it goes last.
    reporters: ["default", "./scripts/summary-reporter.ts"],
  },
})
