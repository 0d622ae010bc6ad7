import { RedisStore } from "@strata/redis"
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { Effect, Exit } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { eventually, failureTag, type OpenStore, openStore, read, text } from "./helpers.ts"

// Each test here injects faults, so each gets its own server (and proxy), stopped afterwards.
let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy | undefined
const opened: Array<OpenStore> = []
const rawClients: Array<Redis> = []
const unhandled: Array<unknown> = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

const open = async (port: number, extra: Partial<RedisStore.Options> = {}) => {
  const store = await openStore({
    url: `redis://127.0.0.1:${port}`,
    commandTimeoutMillis: 300,
    prefix: "faults:",
    ...extra,
  })
  opened.push(store)
  return store
}
const raw = (port: number, options: RedisOptions = {}) => {
  const client = new Redis(port, "127.0.0.1", options as never)
  client.on("error", () => {})
  rawClients.push(client)
  return client
}

beforeEach(async () => {
  unhandled.length = 0
  process.on("unhandledRejection", onUnhandled)
  server = await RedisHarness.startRedis()
})

afterEach(async () => {
  process.off("unhandledRejection", onUnhandled)
  for (const store of opened.splice(0)) await store.close().catch(() => {})
  for (const client of rawClients.splice(0)) client.disconnect()
  await proxy?.close()
  proxy = undefined
  await RedisHarness.stopAll([server])
})

describe("RedisStore under faults", () => {
  it("Redis killed mid-operation: every call fails with a typed error, nothing crashes, and it recovers after a restart", async () => {
    const { store, exit, run } = await open(server.port)
    await run(store.set("s", "k", text("before"), 60_000))
    const inFlight = Array.from({ length: 200 }, (_, i) => exit(store.set("s", `k${i}`, text("x"), 60_000)))
    await server.kill()
    const outcomes = await Promise.all(inFlight)
    const tags = new Set(outcomes.map(failureTag))
    for (const tag of tags) expect(["success", "StoreUnavailable", "Timeout"]).toContain(tag)
    expect(failureTag(await exit(store.get("s", "k")))).toBe("StoreUnavailable")
    expect(store.diagnostics().disconnects).toBeGreaterThan(0)
    await server.restart()
    expect(
      await eventually(async () => Exit.isSuccess(await exit(store.set("s", "k", text("after"), 60_000)))),
    ).toBe(true)
    expect(read(await run(store.get("s", "k")))).toBe("after")
    expect(unhandled).toEqual([])
  })

  it("Redis paused past the command timeout: a typed Timeout, and the timed-out writes never land after their callers gave up (deadline in the script)", async () => {
    const { store, exit, run } = await open(server.port, { socketTimeoutMillis: 5_000 })
    await run(store.set("s", "k", text("old"), 60_000))
    await run(store.increment("s", "n", 1, 60_000))
    server.pause()
    const started = Date.now()
    // Every kind of write, each timed out while the server was paused with the command in its socket buffer.
    const outcomes = await Promise.all([
      exit(store.set("s", "k", text("new"), 60_000)),
      exit(store.delete("s", "gone")),
      exit(store.increment("s", "n", 1, 60_000)),
      exit(store.versioned!.fill("s", "f", text("filled"), 60_000, 0)),
      exit(store.clear("other")),
    ])
    expect(outcomes.map(failureTag)).toEqual(["Timeout", "Timeout", "Timeout", "Timeout", "Timeout"])
    expect(Date.now() - started).toBeLessThan(2_000)
    server.resume()
    // Redis runs the buffered scripts after resuming, past their deadlines: each refuses to write.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(read(await run(store.get("s", "k")))).toBe("old")
    expect(read(await run(store.get("s", "n")))).toBe("1")
    expect(await run(store.get("s", "f"))).toBeUndefined()
    expect(await run(store.versioned!.get("s", "gone"))).toEqual({ value: undefined, version: 0 })
    await run(store.set("s", "k", text("after"), 60_000))
    expect(read(await run(store.get("s", "k")))).toBe("after")
    expect(unhandled).toEqual([])
  })

  it("a black-holed connection stays 'ready' but calls time out, the dead socket is replaced, and no reply is ever matched to the wrong call", async () => {
    proxy = await FaultProxy.startFaultProxy(server.port)
    const { store, exit, run } = await open(proxy.port)
    for (let i = 0; i < 20; i++) await run(store.set("s", `k${i}`, text(`v${i}`), 60_000))
    proxy.blackHole()
    const started = Date.now()
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => exit(store.get("s", `k${i}`))))
    expect(new Set(outcomes.map(failureTag))).toEqual(new Set(["Timeout"]))
    expect(Date.now() - started).toBeLessThan(2_000)
    // The socket timeout (2 × command timeout) destroys the silent connection.
    expect(await eventually(async () => store.diagnostics().disconnects > 0, 3_000)).toBe(true)
    proxy.cut()
    proxy.pass()
    expect(await eventually(async () => Exit.isSuccess(await exit(store.get("s", "k0"))))).toBe(true)
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => run(store.get("s", `k${i}`))))
    expect(values.map(read)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`))
    expect(unhandled).toEqual([])
  })

  it("a write that timed out on a stalled link is refused when the link heals, after a newer write from another client (deadline in the script)", async () => {
    proxy = await FaultProxy.startFaultProxy(server.port)
    // A long socket timeout: the stalled connection survives until the heal, so its bytes reach Redis late.
    const stalled = await open(proxy.port, { socketTimeoutMillis: 10_000 })
    const other = await open(server.port)
    await stalled.run(stalled.store.set("s", "k", text("v0"), 60_000))
    proxy.blackHole()
    expect(failureTag(await stalled.exit(stalled.store.set("s", "k", text("v1"), 60_000)))).toBe("Timeout")
    await other.run(other.store.set("s", "k", text("v2"), 60_000))
    proxy.pass()
    // The held SET reaches Redis now; its deadline passed, so it writes nothing.
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (let i = 0; i < 5; i++) {
      expect(read(await other.run(other.store.get("s", "k")))).toBe("v2")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(read(await stalled.run(stalled.store.get("s", "k")))).toBe("v2")
    expect(unhandled).toEqual([])
  })

  it("an event loop blocked longer than the socket timeout does not cost a healthy connection: nothing is replaced, and the next calls succeed at once", async () => {
    const { store, exit, run } = await open(server.port)
    await run(store.set("s", "k", text("v"), 60_000))
    for (let round = 0; round < 3; round++) {
      const inFlight = Array.from({ length: 5 }, () => exit(store.get("s", "k")))
      // Let the commands reach the socket, then block the loop for twice the socket timeout (600 ms here).
      await new Promise((resolve) => setImmediate(resolve))
      const until = performance.now() + 1_300
      while (performance.now() < until) {
        // busy: a CPU-bound request handler, a long GC
      }
      // Node runs timers before it reads sockets: calls in flight may time out (the caller did wait that long).
      for (const outcome of await Promise.all(inFlight))
        expect(["success", "Timeout"]).toContain(failureTag(outcome))
      expect(failureTag(await exit(store.get("s", "k")))).toBe("success")
    }
    expect(store.diagnostics().disconnects).toBe(0)
    expect(store.diagnostics().silentReplaced).toBe(0)
    expect(unhandled).toEqual([])
  })

  it("a write issued during a partition never lands after it heals over a newer value (no offline queue, no resend)", async () => {
    proxy = await FaultProxy.startFaultProxy(server.port)
    const writer = await open(proxy.port)
    const other = await open(server.port)
    await writer.run(writer.store.set("s", "k", text("v1"), 60_000))

    // 1. Cut off: the write fails at once instead of waiting in a queue.
    proxy.cut({ refuse: true })
    expect(await eventually(async () => writer.store.diagnostics().status !== "ready", 2_000)).toBe(true)
    expect(failureTag(await writer.exit(writer.store.set("s", "k", text("queued"), 60_000)))).toBe(
      "StoreUnavailable",
    )

    // 2. In flight when the link dies: held by the black hole, then the connection is cut.
    proxy.pass()
    expect(await eventually(async () => writer.store.diagnostics().status === "ready")).toBe(true)
    proxy.blackHole()
    const inFlight = writer.exit(writer.store.set("s", "k", text("in-flight"), 60_000))
    await new Promise((resolve) => setTimeout(resolve, 50))
    await other.run(other.store.set("s", "k", text("newer"), 60_000))
    proxy.cut()
    proxy.pass()
    expect(["Timeout", "StoreUnavailable"]).toContain(failureTag(await inFlight))
    expect(await eventually(async () => Exit.isSuccess(await writer.exit(writer.store.get("s", "k"))))).toBe(
      true,
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(read(await other.run(other.store.get("s", "k")))).toBe("newer")
    expect(unhandled).toEqual([])
  })

  it("control: a plain ioredis client with its default offline queue does overwrite the newer value (the trap this store avoids)", async () => {
    proxy = await FaultProxy.startFaultProxy(server.port)
    const naive = raw(proxy.port, { retryStrategy: () => 50 })
    const other = raw(server.port)
    await naive.set("control:k", "v1")
    proxy.cut({ refuse: true })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const queued = naive.set("control:k", "queued").catch(() => "failed")
    await other.set("control:k", "newer")
    proxy.pass()
    expect(await queued).toBe("OK")
    expect(await other.get("control:k")).toBe("queued")
  })

  it("an ACL user without the permissions the store needs gets a clear error at startup, not a hang", async () => {
    await server.command(
      "ACL",
      "SETUSER",
      "limited",
      "on",
      ">secret",
      "~faults:*",
      "+get",
      "+set",
      "+ping",
      "+hello",
      "+client",
    )
    const started = Date.now()
    const outcome = await Effect.runPromiseExit(
      Effect.scoped(
        RedisStore.make({
          url: `redis://limited:secret@127.0.0.1:${server.port}`,
          prefix: "faults:",
        }),
      ),
    )
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(failureTag(outcome)).toBe("StoreUnavailable")
    const message = String(
      Exit.isFailure(outcome) ? (outcome.cause.reasons[0] as { error?: Error }).error?.message : "",
    )
    expect(message).toMatch(/lacks a permission/)
    expect(message).toMatch(/ACL SETUSER/)

    const wrongPassword = await Effect.runPromiseExit(
      Effect.scoped(
        RedisStore.make({ url: `redis://limited:wrong@127.0.0.1:${server.port}`, prefix: "faults:" }),
      ),
    )
    expect(failureTag(wrongPassword)).toBe("StoreUnavailable")
    expect(
      String(
        Exit.isFailure(wrongPassword)
          ? (wrongPassword.cause.reasons[0] as { error?: Error }).error?.message
          : "",
      ),
    ).toMatch(/credentials/)
    expect(unhandled).toEqual([])
  })

  it("a server that is down at startup fails the store with StoreUnavailable within the connect timeout", async () => {
    await server.kill()
    const started = Date.now()
    const outcome = await Effect.runPromiseExit(
      Effect.scoped(
        RedisStore.make({ url: `redis://127.0.0.1:${server.port}`, connectTimeoutMillis: 1_000 }),
      ),
    )
    expect(failureTag(outcome)).toBe("StoreUnavailable")
    expect(Date.now() - started).toBeLessThan(3_000)
  })
})

describe("a lost generation key (FLUSHDB, eviction): processes converge on one generation", () => {
  it("after FLUSHDB a fresh process and an old one read each other's writes again within two refresh periods", async () => {
    const a = await open(server.port, { generationRefreshMillis: 100 })
    await a.run(a.store.set("gen", "k", text("v1"), 60_000))
    await a.run(a.store.clear("gen"))
    await a.run(a.store.set("gen", "k", text("a1"), 60_000))
    await server.command("FLUSHDB")
    // C has never seen the keyspace: it reads no generation key.
    const c = await open(server.port, { generationRefreshMillis: 100 })
    await c.run(c.store.set("gen", "k", text("c1"), 60_000))
    await new Promise((resolve) => setTimeout(resolve, 300))
    await c.run(c.store.set("gen", "k", text("c2"), 60_000))
    expect(read(await a.run(a.store.get("gen", "k")))).toBe("c2")
    await a.run(a.store.set("gen", "k", text("a3"), 60_000))
    expect(read(await c.run(c.store.get("gen", "k")))).toBe("a3")
  })

  it("the startup probe leaves no key without a TTL behind, even after generation refreshes", async () => {
    await open(server.port, { generationRefreshMillis: 50 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    // What it wrote expires on its own (its entries live 1 s, a tombstone tombstoneMillis): no key without a TTL.
    const raw = new Redis(server.port, "127.0.0.1")
    try {
      const keys = await raw.keys("faults:_probe*")
      const ttls = await Promise.all(keys.map((key) => raw.pttl(key)))
      expect(keys.filter((_, i) => ttls[i]! < 0)).toEqual([])
    } finally {
      raw.disconnect()
    }
  })

  it("a clear after the generation key was deleted moves past every generation the process knows", async () => {
    const a = await open(server.port, { generationRefreshMillis: 60_000 })
    await a.run(a.store.clear("gen2"))
    await a.run(a.store.clear("gen2"))
    await a.run(a.store.set("gen2", "k", text("before"), 60_000))
    await server.command("DEL", "faults:gen2:meta:gen")
    await a.run(a.store.clear("gen2"))
    expect(read(await a.run(a.store.get("gen2", "k")))).toBeUndefined()
    const fresh = await open(server.port)
    expect(read(await fresh.run(fresh.store.get("gen2", "k")))).toBeUndefined()
    await a.run(a.store.set("gen2", "k", text("after"), 60_000))
    expect(read(await fresh.run(fresh.store.get("gen2", "k")))).toBe("after")
  })
})
