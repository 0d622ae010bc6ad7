import { project } from "../../scripts/vitest-project.ts"

// Each test file starts embedded databases (PGlite: seconds of CPU and hundreds of MB each):
// one file at a time keeps a loaded 2-core machine responsive.
export default project("shop", { fileParallelism: false, testTimeout: 60_000, hookTimeout: 300_000 })
