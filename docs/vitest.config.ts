import { project } from "../scripts/vitest-project.ts"

// Samples start servers and child processes: on a loaded 2-core CI machine 5 s is not enough.
export default project("docs", { testTimeout: 60_000, hookTimeout: 60_000 })
