/**
 * Issue 9, item 10: `close()`. After `await cache.close()` on a cache with
 * RedisStore + RedisBus, none of its Redis connections remain (counted on
 * the server with CLIENT LIST) and no handle keeps the process alive; a
 * memory-only cache that is never closed does not keep the process alive
 * either; `await using` closes a cache; after close every method fails with
 * `CacheClosed`, and so do calls in flight when `close()` ran.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { createCache, Keyspace, MemoryStore, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { describeFailure, expectFailure, expectTagged, settle, within } from "./contract.ts"
import { isolation, sleep, until } from "./nodes.ts"

const Items = Keyspace.make({
  name: "bb.item",
  key: Schema.String,
  value: Schema.Struct({ value: Schema.String }),
  ttl: "10 minutes",
})
const Hits = Keyspace.counter({ name: "bb.hits", key: Schema.String, ttl: "1 hour" })

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
}, 30_000)
afterAll(async () => {
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const { prefix, channel } = isolation()
const openRedis = () =>
  createCache({
    l2: RedisStore.layer({ url: server.url, prefix }),
    bus: RedisBus.layer({ url: server.url, channel }),
  })
const tiers: Record<string, () => Promise<StrataCache>> = {
  "L1 only": () => createCache(),
  "L1 over a memory store": () => createCache({ l2: MemoryStore.layer() }),
  "L1 over Redis with a bus": openRedis,
}

/** Client connections on the server, not counting the one asking. */
const clientCount = async () =>
  (await server.command("CLIENT", "LIST")).split("\n").filter((line) => line.includes("id=")).length - 1

/**
 * Waits (up to 1 s) for the server to count `expected` clients, then checks
 * again 1 s later (nothing may reconnect after close); returns the first
 * count that differs from `expected`, or `expected`.
 */
const settleCount = async (expected: number) => {
  let count = await clientCount()
  await until(
    async () => {
      count = await clientCount()
      return count === expected
    },
    1_000,
    20,
  )
  if (count !== expected) return count
  await sleep(1_000)
  return clientCount()
}

const use = async (cache: StrataCache) => {
  const items = cache.keyspace(Items)
  await items.set("item:1", { value: "one" })
  await items.get("item:1")
  await items.getOrSet("item:2", async () => ({ value: "two" }))
}

describe("close releases Redis connections (black box)", () => {
  it("after await cache.close(), none of the cache's Redis connections remain (CLIENT LIST before/after)", async () => {
    const baseline = await clientCount()
    const cache = await openRedis()
    await use(cache)
    const open = await clientCount()
    expect(open, "an open cache with a store and a bus holds connections").toBeGreaterThan(baseline)
    await cache.close()
    expect(await settleCount(baseline), `clients after close (baseline ${baseline}, open ${open})`).toBe(
      baseline,
    )
  })

  it("50 caches opened, used and closed leave the server's client count at its baseline", async () => {
    const baseline = await clientCount()
    for (let round = 0; round < 5; round++) {
      const caches = await Promise.all(Array.from({ length: 10 }, openRedis))
      await Promise.all(caches.map(use))
      await Promise.all(caches.map((c) => c.close()))
    }
    expect(await settleCount(baseline), `clients after 50 caches (baseline ${baseline})`).toBe(baseline)
  }, 60_000)

  it("await using closes the cache at the end of its block: connections released, later calls fail with CacheClosed", async () => {
    const baseline = await clientCount()
    let escaped: StrataCache | undefined
    {
      await using cache = await openRedis()
      await use(cache)
      escaped = cache
    }
    expect(await settleCount(baseline), `clients after the block (baseline ${baseline})`).toBe(baseline)
    await expectFailure(() => escaped!.keyspace(Items).get("item:1"), ["CacheClosed"], "get after the block")
  })
})

/**
 * Runs processes/lifecycle.ts in `mode`; answers how long after its last
 * statement the process exited. It is killed `graceMillis` after its last
 * statement (or after 30 s if it never gets there).
 */
const runScript = (mode: string, graceMillis = 5_000) =>
  new Promise<{ exitedAfterDone: number | undefined; code: number | null; output: string }>((resolve) => {
    const script = fileURLToPath(new URL("./processes/lifecycle.ts", import.meta.url))
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@strata/source", script, mode], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { ...process.env, BB_REDIS_URL: server.url, BB_DEAD_PORT: String(deadPort) },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    let doneAt: number | undefined
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      if (doneAt === undefined && /^done$/m.test(output)) doneAt = performance.now()
      // From its last statement (or from an error that ended the script), the process has `graceMillis` to exit.
      if (!graceStarted && (doneAt !== undefined || output.includes("escaped:"))) {
        graceStarted = true
        clearTimeout(timer)
        timer = setTimeout(() => child.kill("SIGKILL"), graceMillis)
      }
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    let timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    let graceStarted = false
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      const exitedAt = performance.now()
      resolve({
        exitedAfterDone: signal === "SIGKILL" || doneAt === undefined ? undefined : exitedAt - doneAt,
        code,
        output: output.trim(),
      })
    })
  })

let deadPort = 0
beforeAll(async () => {
  deadPort = await RedisHarness.freePort()
})

describe("no handle keeps the process alive (black box, child processes)", () => {
  it("a process whose createCache failed (store, then bus, on a port nobody listens on) exits within 1 s of its last statement", async () => {
    const { exitedAfterDone, code, output } = await runScript("redis-unreachable")
    console.log(
      `redis-unreachable: exited ${exitedAfterDone === undefined ? "never" : Math.round(exitedAfterDone)} ms after its last statement`,
    )
    expect(output).toBe("done")
    expect(exitedAfterDone).toBeDefined()
    // ioredis ends a socket that never connected with a 2 s timer (its disconnectTimeout) that nothing clears.
    expect(exitedAfterDone!).toBeLessThan(1_000)
    expect(code).toBe(0)
  }, 40_000)

  for (const [mode, rule] of [
    ["redis-closed", "a process that opens, uses and closes Redis caches (store + bus) exits by itself"],
    ["redis-await-using", "a process whose Redis caches are closed by await using exits by itself"],
    ["memory-never-closed", "a process with an L1-only cache that is never closed exits by itself"],
    [
      "memory-store-never-closed",
      "a process with a cache over a memory store that is never closed exits by itself",
    ],
  ] as const) {
    it(`${rule} (within 3 s of its last statement)`, async () => {
      const { exitedAfterDone, code, output } = await runScript(mode)
      console.log(
        `${mode}: ${exitedAfterDone === undefined ? "did not exit by itself (killed 5 s after its last statement)" : `exited ${Math.round(exitedAfterDone)} ms after its last statement`}, code ${code}`,
      )
      expect(output, "the script ran to its end and nothing escaped").toBe("done")
      expect(exitedAfterDone, "exit after the last statement (ms)").toBeDefined()
      expect(exitedAfterDone!).toBeLessThan(3_000)
      expect(code).toBe(0)
    }, 40_000)
  }
})

describe("after close (black box)", () => {
  for (const [tier, open] of Object.entries(tiers)) {
    it(`every async method rejects with CacheClosed after close (${tier})`, async () => {
      const cache = await open()
      const items = cache.keyspace(Items)
      const hits = cache.keyspace(Hits)
      await use(cache)
      await hits.increment("page:/", 1)
      await cache.close()
      const calls: Record<string, () => unknown> = {
        get: () => items.get("item:1"),
        getOrSet: () => items.getOrSet("item:3", async () => ({ value: "three" })),
        set: () => items.set("item:1", { value: "again" }),
        delete: () => items.delete("item:1"),
        getMany: () => items.getMany(["item:1", "item:2"]),
        setMany: () => items.setMany([["item:4", { value: "four" }]]),
        clear: () => items.clear(),
        increment: () => hits.increment("page:/", 1),
        invalidateTag: () => cache.invalidateTag("user:1"),
        metrics: () => cache.metrics(),
        "keyspace(...).get on a client made after close": () => cache.keyspace(Items).get("item:1"),
      }
      const wrong: Array<string> = []
      for (const [name, call] of Object.entries(calls)) {
        const outcome = await within(
          settle(() => call()),
          2_000,
        )
        const shown =
          outcome === "pending"
            ? "pending after 2 s"
            : !outcome.ok
              ? "resolved"
              : outcome.value.ok
                ? `resolved with ${JSON.stringify(outcome.value.value)?.slice(0, 60)}`
                : describeFailure(outcome.value.error)
        if (shown !== "CacheClosed") wrong.push(`${name}: ${shown}`)
      }
      expect(wrong, "methods that did not fail with CacheClosed").toEqual([])
      // A second close is harmless: it resolves, or fails with CacheClosed, nothing else.
      const again = await settle(() => cache.close())
      if (!again.ok) expectTagged(again.error, ["CacheClosed"], "a second close")
    })

    it(`the synchronous methods throw CacheClosed after close: peek, stats, on (${tier})`, async () => {
      const cache = await open()
      const items = cache.keyspace(Items)
      await use(cache)
      await cache.close()
      const calls: Record<string, () => unknown> = {
        peek: () => items.peek("item:1"),
        stats: () => cache.stats(),
        on: () => cache.on(() => {}),
      }
      const wrong: Array<string> = []
      for (const [name, call] of Object.entries(calls)) {
        try {
          const value = call()
          wrong.push(
            `${name}: returned ${typeof value === "function" ? "a function" : JSON.stringify(value)}`,
          )
        } catch (error) {
          if (describeFailure(error) !== "CacheClosed") wrong.push(`${name}: threw ${describeFailure(error)}`)
        }
      }
      expect(wrong, "synchronous methods that did not throw CacheClosed").toEqual([])
    })

    it(`calls in flight when close() runs reject with CacheClosed, and close does not wait for a loader that never returns (${tier})`, async () => {
      const cache = await open()
      const items = cache.keyspace(Items)
      await use(cache)
      const never = items.getOrSet("item:never", () => new Promise<{ value: string }>(() => {}))
      const slow = items.getOrSet("item:slow", async () => {
        await sleep(300)
        return { value: "slow" }
      })
      await sleep(20)
      const closing = within(cache.close(), 2_000)
      const [closed, neverOutcome, slowOutcome] = await Promise.all([
        closing,
        within(never, 2_500),
        within(slow, 2_500),
      ])
      expect(closed, "close() resolves within 2 s").not.toBe("pending")
      if (closed !== "pending") expect(closed.ok, "close() resolves").toBe(true)
      for (const [name, outcome] of [
        ["a getOrSet whose loader never returns", neverOutcome],
        ["a getOrSet whose loader takes 300 ms", slowOutcome],
      ] as const) {
        expect(outcome, `${name} settles`).not.toBe("pending")
        if (outcome === "pending") continue
        expect(outcome.ok, `${name} rejects`).toBe(false)
        if (!outcome.ok) expectTagged(outcome.error, ["CacheClosed"], name)
      }
    })
  }

  it("a get in flight on a stalled Redis when close() runs rejects with CacheClosed, and close resolves within 2 s", async () => {
    const cache = await openRedis()
    await use(cache)
    server.pause()
    try {
      const inFlight = within(cache.keyspace(Items).get("item:cold"), 2_500)
      const write = within(cache.keyspace(Items).set("item:cold", { value: "cold" }), 2_500)
      await sleep(50)
      const closed = await within(cache.close(), 2_000)
      const [readOutcome, writeOutcome] = await Promise.all([inFlight, write])
      expect(closed, "close() resolves within 2 s").not.toBe("pending")
      for (const [name, outcome] of [
        ["get", readOutcome],
        ["set", writeOutcome],
      ] as const) {
        expect(outcome, `${name} settles`).not.toBe("pending")
        if (outcome !== "pending" && !outcome.ok) expectTagged(outcome.error, ["CacheClosed"], name)
        else if (outcome !== "pending") expect.fail(`${name} resolved after close`)
      }
    } finally {
      server.resume()
    }
  })
})
