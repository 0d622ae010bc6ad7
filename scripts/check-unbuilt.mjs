#!/usr/bin/env node
// Fails when the clone holds build output: a `dist/` folder or a `.tsbuildinfo`
// file anywhere outside node_modules. CI runs it before and after the README's
// commands, so they are proven to work on a clone that was never built (and to
// build nothing themselves): workspace packages must resolve to their sources
// in every process the tests, the demo and the benchmarks start.
import { readdirSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const found = []
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === ".git") continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name === "dist") found.push(path)
      else walk(path)
    } else if (entry.name.endsWith(".tsbuildinfo")) found.push(path)
  }
}
walk(root)

if (found.length > 0) {
  process.stderr.write(
    `check-unbuilt: build output present, so this clone is not unbuilt:\n${found.map((p) => `  ${relative(root, p)}`).join("\n")}\n`,
  )
  process.exit(1)
}
process.stdout.write("check-unbuilt: no dist/ and no .tsbuildinfo in the clone\n")
