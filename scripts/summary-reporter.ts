import type { Reporter, SerializedError, TestModule } from "vitest/node"

/**
 * Prints one plain closing line, `N passed, N failed` (plus `, N skipped` when
 * any were skipped), from Vitest's own results. CI reads this line instead of
 * Vitest's formatted summary. A test file that fails to load, and an unhandled
 * error, each count as one failure so they can never hide behind a green count.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>) {
    let passed = 0
    let failed = unhandledErrors.length
    let skipped = 0
    for (const module of testModules) {
      let testsInModule = 0
      for (const test of module.children.allTests()) {
        testsInModule++
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failed++
        else skipped++
      }
      if (testsInModule === 0 || module.errors().length > 0) {
        if (module.state() === "failed" || module.errors().length > 0) failed++
      }
    }
    const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`
    process.stdout.write(`\n${line}\n`)
  }
}
