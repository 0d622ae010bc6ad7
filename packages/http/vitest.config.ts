import { project } from "../../scripts/vitest-project.ts"

export default project("http", {
  globalSetup: ["test/global-setup.ts"],
  testTimeout: 60_000,
  hookTimeout: 60_000,
})
