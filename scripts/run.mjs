#!/usr/bin/env node
// Runs a workspace script on a fresh clone: checks Node, finds pnpm (or runs the
// pinned one through npx), installs dependencies when the lockfile changed,
// then hands over to `pnpm run <script>`. This is what makes the README's two
// commands (`npm run demo`, `npm test`) work with nothing but Node installed.
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const PNPM = "10.34.9"
const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const [script, ...args] = process.argv.slice(2)

const fail = (message) => {
  process.stderr.write(`strata: ${message}\n`)
  process.exit(1)
}

if (script === undefined) fail("usage: node scripts/run.mjs <script> [args...]")

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  fail(
    `Node >= 20.19 is required, this is ${process.version}. Install a newer Node and run the command again.`,
  )
}

const quiet = { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }
const local = spawnSync("pnpm", ["--version"], quiet)
const pnpm =
  local.status === 0 && local.stdout.trim().startsWith("10.") ? ["pnpm"] : ["npx", "--yes", `pnpm@${PNPM}`]

const run = (argv) => {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: "inherit", env: process.env })
  if (result.error) fail(`could not run ${argv.join(" ")}: ${result.error.message}`)
  return result.status ?? 1
}

// Install when node_modules is missing or older than the lockfile.
const installed = join(root, "node_modules", ".pnpm", "lock.yaml")
const lockfile = join(root, "pnpm-lock.yaml")
const stale =
  !existsSync(installed) ||
  statSync(installed).mtimeMs < statSync(lockfile).mtimeMs ||
  readFileSync(installed, "utf8").length === 0
if (stale) {
  process.stdout.write("strata: installing dependencies (first run)...\n")
  const status = run([...pnpm, "install", "--frozen-lockfile"])
  if (status !== 0) fail("dependency install failed; see the output above.")
}

process.exit(run([...pnpm, "run", "--silent", script, ...args]))
