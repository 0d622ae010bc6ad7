#!/usr/bin/env node
// Checks every library package (packages/*) as a user meets it: packed the way
// it is published, then installed with npm into a fresh project outside the
// workspace.
//
// 1. `pnpm -r pack` of packages/*, then for each tarball: its files (dist
//    JavaScript, declarations and maps, src/**/*.ts, README, LICENSE; no tests,
//    no .tsbuildinfo), its manifest (no workspace: ranges, not private, peers),
//    the same file rules on `npm pack --dry-run`, publint and attw.
// 2. For the lowest and the highest version of each peer range (effect, vitest,
//    fast-check): a project in a temp folder installs the tarballs and the peers
//    with `npm install`, compiles scripts/consumer/example.ts and the packages'
//    README examples with TypeScript 5.9 and 7, proves the example's
//    `@ts-expect-error` bites, and runs everything with plain `node` (and the
//    testkit's example with the project's own Vitest), on the memory tier and
//    against a redis-server started here on a free loopback port.
//
// Usage: node scripts/consumer-check.mjs [--keep]   (--keep leaves the temp folder)
import { execFileSync, spawn, spawnSync } from "node:child_process"
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { basename, dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const fixture = join(root, "scripts", "consumer")
const keep = process.argv.includes("--keep")
const TS5 = "5.9.3"
const TS7 = "7.0.2"
const TYPES_NODE = "20.19.43"

const work = mkdtempSync(join(tmpdir(), "strata-consumer-"))
const tarballs = join(work, "tarballs")
const app = join(work, "app")
mkdirSync(tarballs)
mkdirSync(app)

const started = Date.now()
const log = (message) =>
  process.stdout.write(
    `consumer-check [${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s]: ${message}\n`,
  )
/** Prints a child's output, indented under the check's own lines. */
const show = (output) => {
  for (const line of output.split("\n").filter(Boolean)) process.stdout.write(`    ${line}\n`)
}
const fail = (message) => {
  process.stderr.write(`consumer-check: FAILED: ${message}\n(temp folder kept: ${work})\n`)
  process.exit(1)
}

/** Runs a command; fails the check unless it exits 0. Returns its stdout. */
const run = (cmd, args, options = {}) => {
  const result = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeout ?? 300_000,
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
  })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
  if (result.status !== 0) {
    process.stderr.write(output)
    fail(`${cmd} ${args.join(" ")} (in ${options.cwd ?? root}) exited ${result.status ?? result.signal}`)
  }
  return result.stdout
}

/** Runs a command that must fail; returns its output. */
const runFailing = (cmd, args, options = {}) => {
  const result = spawnSync(cmd, args, { encoding: "utf8", cwd: options.cwd ?? root, timeout: 300_000 })
  if (result.status === 0) fail(`${cmd} ${args.join(" ")} was expected to fail and passed`)
  return `${result.stdout ?? ""}${result.stderr ?? ""}`
}

// ---------------------------------------------------------------------------
// 1. Pack and inspect
// ---------------------------------------------------------------------------

const packageDirs = readdirSync(join(root, "packages"))
  .map((name) => join(root, "packages", name))
  .filter((dir) => existsSync(join(dir, "package.json")))
  .sort()

log(`packing ${packageDirs.map((d) => relative(root, d)).join(", ")} (prepack builds dist/)`)
run("pnpm", ["-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs])

// A published file is a build output in dist/, a source in src/, or the package's README, LICENSE and manifest.
const allowedFile = (file) =>
  /^dist\/.+\.(js|js\.map|d\.ts|d\.ts\.map)$/.test(file) ||
  /^src\/.+\.ts$/.test(file) ||
  ["package.json", "README.md", "LICENSE"].includes(file)

const checkFileList = (label, files) => {
  const wrong = files.filter((file) => !allowedFile(file) || /(^|\/)(test|tests|__tests__)\//.test(file))
  if (wrong.length > 0) fail(`${label} would publish ${wrong.join(", ")}`)
  for (const needed of ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts"]) {
    if (!files.includes(needed)) fail(`${label} lacks ${needed}`)
  }
  if (!files.some((f) => f.endsWith(".js.map")) || !files.some((f) => f.endsWith(".d.ts.map"))) {
    fail(`${label} has no source maps or declaration maps`)
  }
}

const exportTargets = (exports) =>
  typeof exports === "string" ? [exports] : Object.values(exports ?? {}).flatMap((v) => exportTargets(v))

const packages = []
for (const dir of packageDirs) {
  const source = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  const tarball = join(tarballs, `${source.name.replace("@", "").replace("/", "-")}-${source.version}.tgz`)
  if (!existsSync(tarball)) fail(`pnpm pack wrote no ${basename(tarball)}`)
  const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""))
  checkFileList(basename(tarball), files)

  const text = execFileSync("tar", ["-xOzf", tarball, "package/package.json"], { encoding: "utf8" })
  const manifest = JSON.parse(text)
  const name = manifest.name
  if (text.includes("workspace:")) fail(`${name}: the packed package.json still has a workspace: range`)
  if (manifest.private) fail(`${name} is private`)
  if (manifest.license !== "MIT") fail(`${name}: license is ${manifest.license}`)
  if (manifest.sideEffects !== false) fail(`${name}: sideEffects is not false`)
  if (manifest.engines?.node === undefined) fail(`${name}: no engines.node`)
  if (manifest.publishConfig?.access !== "public") fail(`${name}: publishConfig.access is not public`)
  if (manifest.dependencies?.effect !== undefined) fail(`${name}: effect is a dependency, not a peer`)
  if (manifest.peerDependencies?.effect === undefined) fail(`${name}: effect is not a peer dependency`)
  if (manifest.dependencies?.vitest !== undefined) fail(`${name}: vitest is a runtime dependency`)
  for (const target of exportTargets(manifest.exports)) {
    if (!files.includes(target.replace(/^\.\//, "")))
      fail(`${name}: exports target ${target} is not in the tarball`)
    if (target.endsWith(".ts") && !target.endsWith(".d.ts"))
      fail(`${name}: exports point at a source (${target})`)
  }

  const dry = JSON.parse(run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: dir }))
  checkFileList(
    `npm pack --dry-run of ${name}`,
    dry[0].files.map((f) => f.path),
  )

  run(join(root, "node_modules", ".bin", "publint"), ["run", "--strict", tarball])
  // ESM only: the esm-only profile leaves out node10 and require() from CommonJS, which no ESM-only package resolves.
  run(join(root, "node_modules", ".bin", "attw"), ["--profile", "esm-only", "--no-color", tarball])
  packages.push({ name, manifest, tarball, dir, size: statSync(tarball).size, files: files.length })
  log(
    `${name}: ${files.length} files, ${(statSync(tarball).size / 1024).toFixed(1)} kB packed; publint and attw clean`,
  )
}

// ---------------------------------------------------------------------------
// 2. A consumer project outside the workspace
// ---------------------------------------------------------------------------

// The peers a user installs (optional ones left out), each with one range shared by every package.
const peers = new Map()
for (const { name, manifest } of packages) {
  for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
    if (peer.startsWith("@strata/") || manifest.peerDependenciesMeta?.[peer]?.optional) continue
    if (peers.has(peer) && peers.get(peer) !== range)
      fail(`${name} wants ${peer}@${range}, another package ${peers.get(peer)}`)
    peers.set(peer, range)
  }
}

const compareVersions = (a, b) => {
  const pa = a.split(".").map(Number)
  const pb = b.split(".").map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}
const versionsOf = (peer, range) => {
  const found = JSON.parse(run("npm", ["view", `${peer}@${range}`, "version", "--json"]))
  return (Array.isArray(found) ? found : [found])
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .sort(compareVersions)
}
const bounds = [...peers].map(([peer, range]) => {
  const versions = versionsOf(peer, range)
  if (versions.length === 0) fail(`no published ${peer} satisfies ${range}`)
  return { peer, range, lowest: versions[0], highest: versions.at(-1) }
})
log(`peer ranges: ${bounds.map((b) => `${b.peer}@${b.range} (${b.lowest} .. ${b.highest})`).join(", ")}`)

// The project: the typed example, and each package's README examples (a block that imports vitest is a test file).
mkdirSync(join(app, "src"))
mkdirSync(join(app, "test"))
copyFileSync(join(fixture, "example.ts"), join(app, "src", "example.ts"))
for (const file of ["any-strata.d.ts", "tsconfig.json", "tsconfig.any.json"])
  copyFileSync(join(fixture, file), join(app, file))
const scripts = ["src/example.ts"]
const tests = []
for (const { dir } of packages) {
  const readme = readFileSync(join(dir, "README.md"), "utf8")
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  if (blocks.length === 0) fail(`${relative(root, dir)}/README.md has no TypeScript example`)
  blocks.forEach((code, i) => {
    const stem = `readme-${basename(dir)}-${i + 1}`
    const file = /from "vitest"/.test(code) ? `test/${stem}.test.ts` : `src/${stem}.ts`
    writeFileSync(join(app, file), code)
    ;(file.startsWith("test/") ? tests : scripts).push(file)
  })
}

const dependencies = Object.fromEntries(packages.map((p) => [p.name, `file:${relative(app, p.tarball)}`]))
writeFileSync(
  join(app, "package.json"),
  `${JSON.stringify(
    {
      name: "strata-consumer",
      private: true,
      type: "module",
      dependencies,
      devDependencies: {
        "@types/node": TYPES_NODE,
        ts5: `npm:typescript@${TS5}`,
        ts7: `npm:typescript@${TS7}`,
      },
    },
    null,
    2,
  )}\n`,
)

const tsc = (version) => join(app, "node_modules", version, "bin", "tsc")
const exampleLines = readFileSync(join(app, "src", "example.ts"), "utf8").split("\n")
const directive = exampleLines.findIndex((line) => line.trim().startsWith("// @ts-expect-error"))
if (directive < 0) fail("scripts/consumer/example.ts has no @ts-expect-error line")

/** Every package.json under node_modules whose name is `name`: a second copy would be a second identity. */
const copiesOf = (name) => {
  const found = []
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      if (entry.name.startsWith("@")) walk(path)
      else {
        const manifest = join(path, "package.json")
        if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === name) found.push(path)
        if (existsSync(join(path, "node_modules"))) walk(join(path, "node_modules"))
      }
    }
  }
  walk(join(app, "node_modules"))
  return found
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** Whether a Redis answers PING on `port`. */
const pings = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.setTimeout(500, () => socket.destroy())
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => {
      resolve(data.toString().startsWith("+PONG"))
      socket.destroy()
    })
    socket.on("error", () => resolve(false))
    socket.on("close", () => resolve(false))
  })

/** A redis-server of our own on a free loopback port, no persistence. Never the one on 6379. */
const startRedis = async () => {
  const port = await freePort()
  const dir = mkdtempSync(join(work, "redis-"))
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  )
  const deadline = Date.now() + 10_000
  while (!(await pings(port))) {
    if (child.exitCode !== null || Date.now() > deadline) fail(`redis-server did not start on port ${port}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") }
}

const round = async (label, pick) => {
  const versions = Object.fromEntries(bounds.map((b) => [b.peer, pick(b)]))
  log(
    `${label}: npm install of the tarballs with ${Object.entries(versions)
      .map(([p, v]) => `${p}@${v}`)
      .join(", ")}`,
  )
  run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--save-exact",
      ...Object.entries(versions).map(([p, v]) => `${p}@${v}`),
    ],
    { cwd: app },
  )
  for (const [peer, version] of Object.entries(versions)) {
    const copies = copiesOf(peer)
    const installed = copies.map((c) => JSON.parse(readFileSync(join(c, "package.json"), "utf8")).version)
    if (copies.length !== 1 || installed[0] !== version) {
      fail(`${peer}: expected one copy, ${version}; found ${installed.join(", ") || "none"}`)
    }
  }
  for (const { name } of packages) {
    if (copiesOf(name).length !== 1) fail(`${name} is installed more than once`)
  }
  const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8"))
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.includes("@strata/") && !(entry.resolved ?? "").startsWith("file:")) {
      fail(`${path} came from ${entry.resolved}, not from a tarball`)
    }
  }

  // Everything compiles, declarations included (skipLibCheck is off): TS 5.9 also emits what node runs.
  rmSync(join(app, "build"), { recursive: true, force: true })
  for (const ts of ["ts5", "ts7"]) {
    run(tsc(ts), ["-p", "tsconfig.json", ...(ts === "ts5" ? [] : ["--noEmit"])], { cwd: app })

    // The wrong key shape must be an error: with the directive removed, tsc reports that line.
    // (Declarations were checked above; these two runs skip them.)
    const stripped = exampleLines.filter((_, i) => i !== directive).join("\n")
    writeFileSync(join(app, "src", "example.ts"), stripped)
    const strippedOutput = runFailing(tsc(ts), ["-p", "tsconfig.json", "--noEmit", "--skipLibCheck"], {
      cwd: app,
    })
    writeFileSync(join(app, "src", "example.ts"), exampleLines.join("\n"))
    const strippedErrors = strippedOutput.split("\n").filter((l) => /error TS\d+/.test(l))
    if (
      strippedErrors.length === 0 ||
      !strippedErrors.every((l) => l.startsWith(`src/example.ts(${directive + 1},`))
    ) {
      fail(
        `${ts}: without its @ts-expect-error the example should fail on line ${directive + 1} only:\n${strippedOutput}`,
      )
    }

    // And the directive must be load-bearing: against `any` types it is unused, which tsc reports (TS2578)
    // on that line. (Other errors there come from `any` reaching Effect's requirements; they do not matter.)
    const anyOutput = runFailing(tsc(ts), ["-p", "tsconfig.any.json", "--skipLibCheck"], { cwd: app })
    const unused = anyOutput
      .split("\n")
      .find((l) => l.startsWith(`src/example.ts(${directive + 1},`) && l.includes("error TS2578"))
    if (unused === undefined) {
      fail(
        `${ts}: against any-typed packages the @ts-expect-error should be reported unused (TS2578):\n${anyOutput}`,
      )
    }
    log(
      `${label}: ${ts} compiles the example and ${scripts.length - 1 + tests.length} README examples; the @ts-expect-error bites (without it: ${strippedErrors[0]}; against any: ${unused})`,
    )
  }

  const js = (file) => join("build", file.replace(/\.ts$/, ".js"))
  // First without Redis: the memory tier needs no server (an empty REDIS_URL means none).
  show(run("node", [js("src/example.ts")], { cwd: app, timeout: 60_000, env: { REDIS_URL: "" } }))
  log(`${label}: node ${js("src/example.ts")} (no Redis): ok`)
  const redis = await startRedis()
  try {
    for (const file of scripts) {
      const out = run("node", [js(file)], { cwd: app, timeout: 60_000, env: { REDIS_URL: redis.url } })
      show(out)
      log(`${label}: node ${js(file)} (REDIS_URL=${redis.url}): ok`)
    }
  } finally {
    redis.stop()
  }
  if (tests.length > 0) {
    const out = run("node", [join("node_modules", "vitest", "vitest.mjs"), "run", "--dir", "test"], {
      cwd: app,
      env: { NO_COLOR: "1", FORCE_COLOR: "0" },
    })
    const summary = out
      .split("\n")
      .filter((l) => /Test Files|Tests /.test(l))
      .map((l) => l.trim())
    log(`${label}: vitest ${versions.vitest ?? ""} runs ${tests.join(", ")}: ${summary.join("; ")}`)
  }
}

await round("lowest peers", (b) => b.lowest)
await round("highest peers", (b) => b.highest)

log("tarballs:")
for (const p of packages) log(`  ${basename(p.tarball)}  ${(p.size / 1024).toFixed(1)} kB, ${p.files} files`)
if (keep) log(`kept ${work}`)
else rmSync(work, { recursive: true, force: true })
log("passed")
