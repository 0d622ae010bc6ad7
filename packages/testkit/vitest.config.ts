import { project } from "../../scripts/vitest-project.ts"

export default project("testkit", { testTimeout: 120_000 })
