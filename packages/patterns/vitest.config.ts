import { project } from "../../scripts/vitest-project.ts"

export default project("patterns", {
  testTimeout: 60_000,
  hookTimeout: 60_000,
})
