import { project } from "../../scripts/vitest-project.ts"

export default project("ratelimit", {
  testTimeout: 60_000,
  hookTimeout: 60_000,
})
