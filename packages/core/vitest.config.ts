import { project } from "../../scripts/vitest-project.ts"

// Property tests run hundreds of cases: on a loaded 2-core CI machine 5 s is not always enough.
export default project("core", { testTimeout: 30_000 })
