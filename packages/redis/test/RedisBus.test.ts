import { randomUUID } from "node:crypto"
import { Cache, type CacheEvent, CacheMetrics, Keyspace, Msgpack } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { Effect, Exit, Metric, Option, Schema, Scope } from "effect"
import { Redis } from "ioredis"
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest"
import { eventually } from "./helpers.ts"

const Profiles = Keyspace.make({
  name: "bus.profile",
  key: Schema.Int,
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 hour",
})

/** One "process": a cache with its own store and bus connections. */
interface Node {
  readonly cache: Cache.Service
  readonly bus: RedisBus.Service
  readonly events: Array<CacheEvent>
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
}

let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy | undefined
let scope: Scope.Closeable
const raw: Array<Redis> = []
const unhandled: Array<unknown> = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)

beforeEach(async () => {
  unhandled.length = 0
  process.on("unhandledRejection", onUnhandled)
  server = await RedisHarness.startRedis()
  scope = Effect.runSync(Scope.make())
})
afterEach(async () => {
  process.off("unhandledRejection", onUnhandled)
  await Effect.runPromise(Scope.close(scope, Exit.void))
  for (const client of raw.splice(0)) client.disconnect()
  await proxy?.close()
  proxy = undefined
  await RedisHarness.stopAll([server])
})

const channel = () => `bus-test-${randomUUID().slice(0, 8)}`

const node = async (port: number, ch: string, busOptions: Partial<RedisBus.Options> = {}): Promise<Node> => {
  const url = `redis://127.0.0.1:${port}`
  const built = await Effect.runPromise(
    Scope.provide(
      Effect.gen(function* () {
        const store = yield* RedisStore.make({ url: `redis://127.0.0.1:${server.port}`, prefix: "bus:" })
        const bus = yield* RedisBus.make({
          url,
          channel: ch,
          heartbeatMillis: 200,
          heartbeatTimeoutMillis: 600,
          ...busOptions,
        })
        const cache = yield* Cache.make({}, store, bus)
        return { cache, bus }
      }),
      scope,
    ),
  )
  const events: Array<CacheEvent> = []
  built.cache.onEvent((e) => events.push(e))
  return { ...built, events, run: (effect) => Effect.runPromise(effect) }
}

/** Waits until `b` has received `count` invalidations: reads before that may race with them (and then do not fill L1). */
const received = (b: Node, count: number) =>
  eventually(async () => b.bus.diagnostics().received >= count, 2_000, 2)

const publisher = () => {
  const client = new Redis(server.port, "127.0.0.1")
  client.on("error", () => {})
  raw.push(client)
  return client
}

describe("RedisBus", () => {
  it("a write on one process drops the other's L1 copy; its own echo is ignored", async () => {
    const ch = channel()
    const a = await node(server.port, ch)
    const b = await node(server.port, ch)
    await a.run(a.cache.set(Profiles, 1, { name: "v1" }))
    await received(b, 1)
    expect(await b.run(b.cache.get(Profiles, 1))).toEqual(Option.some({ name: "v1" }))
    expect(b.cache.peekUnsafe(Profiles, 1)).toEqual({ name: "v1" })
    await a.run(a.cache.set(Profiles, 1, { name: "v2" }))
    expect(await eventually(async () => b.cache.peekUnsafe(Profiles, 1) === undefined, 2_000, 5)).toBe(true)
    expect(await b.run(b.cache.get(Profiles, 1))).toEqual(Option.some({ name: "v2" }))
    // A's own message came back to it and was ignored: its L1 still holds what it wrote.
    expect(a.cache.peekUnsafe(Profiles, 1)).toEqual({ name: "v2" })
    expect(a.bus.diagnostics().received).toBe(0)
    expect(unhandled).toEqual([])
  })

  it("the receiver records each batch's publish-to-receipt lag in strata_bus_lag_ms (by channel)", async () => {
    const ch = channel()
    const a = await node(server.port, ch)
    const b = await node(server.port, ch)
    for (let i = 0; i < 3; i++) {
      await a.run(a.cache.set(Profiles, i, { name: `v${i}` }))
      await received(b, i + 1)
    }
    const lag = await Effect.runPromise(Metric.value(Metric.withAttributes(CacheMetrics.busLag, { bus: ch })))
    expect(lag.count).toBe(b.bus.diagnostics().received)
    expect(lag.count).toBeGreaterThanOrEqual(3)
    expect(lag.max).toBeLessThan(2_000)
  })

  it("tags and keyspace clears reach the other process", async () => {
    const ch = channel()
    const Tagged = Keyspace.make({
      name: "bus.tagged",
      key: Schema.Int,
      value: Schema.String,
      ttl: "1 hour",
      tags: (id) => [`t:${id % 2}`],
    })
    const a = await node(server.port, ch)
    const b = await node(server.port, ch)
    await a.run(
      a.cache.setMany(Tagged, [
        [1, "one"],
        [2, "two"],
      ]),
    )
    await received(b, 1)
    await b.run(b.cache.getMany(Tagged, [1, 2]))
    await a.run(a.cache.invalidateTag("t:1"))
    expect(await eventually(async () => b.cache.peekUnsafe(Tagged, 1) === undefined, 2_000, 5)).toBe(true)
    expect(b.cache.peekUnsafe(Tagged, 2)).toBe("two")
    await a.run(a.cache.clear(Tagged))
    expect(await eventually(async () => b.cache.peekUnsafe(Tagged, 2) === undefined, 2_000, 5)).toBe(true)
    expect(await b.run(b.cache.get(Tagged, 2))).toEqual(Option.none())
  })

  it("a killed subscriber connection (CLIENT KILL TYPE pubsub) is a gap: L1 is dropped and the bus resubscribes", async () => {
    const ch = channel()
    const a = await node(server.port, ch)
    const b = await node(server.port, ch)
    await a.run(a.cache.set(Profiles, 1, { name: "v1" }))
    await b.run(b.cache.get(Profiles, 1))
    await server.clientKill("pubsub")
    expect(
      await eventually(async () => b.events.some((e) => e._tag === "BusGap" && e.connected), 5_000),
    ).toBe(true)
    expect(
      b.events.filter((e) => e._tag === "BusGap").map((e) => (e as { connected: boolean }).connected),
    ).toEqual([false, true])
    expect(b.cache.peekUnsafe(Profiles, 1)).toBeUndefined()
    // Delivery works again after the gap.
    await b.run(b.cache.get(Profiles, 1))
    await a.run(a.cache.set(Profiles, 1, { name: "v2" }))
    expect(await eventually(async () => b.cache.peekUnsafe(Profiles, 1) === undefined, 2_000, 5)).toBe(true)
    expect(unhandled).toEqual([])
  })

  it("a black-holed subscriber stays 'ready' but misses its heartbeat: a gap, L1 dropped, and a fresh connection", async () => {
    const ch = channel()
    proxy = await FaultProxy.startFaultProxy(server.port)
    const a = await node(server.port, ch)
    const b = await node(proxy.port, ch)
    await a.run(a.cache.set(Profiles, 1, { name: "v1" }))
    await b.run(b.cache.get(Profiles, 1))
    proxy.blackHole()
    await a.run(a.cache.set(Profiles, 1, { name: "v2" }))
    // The invalidation sits in the black hole; the heartbeat notices within its timeout.
    expect(
      await eventually(async () => b.events.some((e) => e._tag === "BusGap" && !e.connected), 3_000, 20),
    ).toBe(true)
    expect(b.cache.peekUnsafe(Profiles, 1)).toBeUndefined()
    proxy.pass()
    expect(await eventually(async () => b.bus.diagnostics().subscribed, 5_000)).toBe(true)
    expect(await b.run(b.cache.get(Profiles, 1))).toEqual(Option.some({ name: "v2" }))
    expect(unhandled).toEqual([])
  })

  it("a blocked event loop is not taken for a dead link: no gap while the loop was busy", async () => {
    const ch = channel()
    // Each hop through the proxy takes 150 ms, so with a ping every 100 ms one is nearly always pending when the loop blocks.
    proxy = await FaultProxy.startFaultProxy(server.port)
    proxy.delay(150)
    const a = await node(server.port, ch)
    const b = await node(proxy.port, ch, {
      heartbeatMillis: 100,
      commandTimeoutMillis: 5_000,
      connectTimeoutMillis: 20_000,
    })
    await a.run(a.cache.set(Profiles, 1, { name: "v1" }))
    await received(b, 1)
    await b.run(b.cache.get(Profiles, 1))
    await new Promise((resolve) => setTimeout(resolve, 500))
    const busyUntil = Date.now() + 1_500
    while (Date.now() < busyUntil) {
      // Block the loop for more than twice the heartbeat timeout.
    }
    await new Promise((resolve) => setTimeout(resolve, 800))
    expect(b.events.filter((e) => e._tag === "BusGap")).toEqual([])
    expect(b.cache.peekUnsafe(Profiles, 1)).toEqual({ name: "v1" })
  })

  it("malformed and foreign messages are dropped and reported; a hole in a sender's sequence is a gap", async () => {
    const ch = channel()
    const b = await node(server.port, ch)
    const client = publisher()
    await client.publish(ch, Buffer.from([0xc1, 0x00]))
    await client.publish(ch, Buffer.from(Msgpack.pack({ v: 2, node: "x", seq: 1, msgs: [] })))
    await client.publish(ch, Buffer.from(Msgpack.pack({ v: 1, node: "x", seq: 1, msgs: [{ _tag: "Nope" }] })))
    expect(
      await eventually(
        async () => b.events.filter((e) => e._tag === "BusMessageDropped").length === 3,
        2_000,
        5,
      ),
    ).toBe(true)
    await b.run(b.cache.set(Profiles, 3, { name: "kept" }))
    await client.publish(ch, Buffer.from(Msgpack.pack({ v: 1, node: "y", seq: 1, msgs: [] })))
    await client.publish(ch, Buffer.from(Msgpack.pack({ v: 1, node: "y", seq: 3, msgs: [] })))
    expect(
      await eventually(
        async () => b.events.some((e) => e._tag === "BusGap" && e.reason.includes("sequence gap")),
        2_000,
        5,
      ),
    ).toBe(true)
    expect(b.cache.peekUnsafe(Profiles, 3)).toBeUndefined()
    expect(unhandled).toEqual([])
  })

  it("an invalidation that cannot be published is retried and delivered once Redis is back", async () => {
    const ch = channel()
    proxy = await FaultProxy.startFaultProxy(server.port)
    // A's bus publishes through the proxy; its store talks to Redis directly.
    const a = await node(proxy.port, ch)
    const b = await node(server.port, ch)
    await a.run(a.cache.set(Profiles, 1, { name: "v1" }))
    await received(b, 1)
    await b.run(b.cache.get(Profiles, 1))
    proxy.cut({ refuse: true })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await a.run(a.cache.set(Profiles, 1, { name: "v2" }))
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(a.bus.diagnostics().queued).toBeGreaterThan(0)
    expect(b.cache.peekUnsafe(Profiles, 1)).toEqual({ name: "v1" })
    proxy.pass()
    expect(await eventually(async () => b.cache.peekUnsafe(Profiles, 1) === undefined, 5_000, 10)).toBe(true)
    expect(a.bus.diagnostics().queued).toBe(0)
  })

  it("an ACL user without permission for the channel gets a clear error at startup", async () => {
    await server.command("ACL", "SETUSER", "nochan", "on", ">pw", "~*", "+@all", "resetchannels")
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        RedisBus.make({ url: `redis://nochan:pw@127.0.0.1:${server.port}`, channel: "strata:bus" }),
      ),
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? (exit.cause.reasons[0] as { error?: Error }).error : undefined
    expect(error?.message).toMatch(/ACL SETUSER <user> &strata:bus/)
  })

  it("on a Cluster: sharded pub/sub carries invalidations between caches", async () => {
    const ch = channel()
    const nodes = inject("clusterNodes")
    const make = () =>
      Effect.runPromise(
        Scope.provide(
          Effect.gen(function* () {
            const cluster = { nodes }
            const store = yield* RedisStore.make({ cluster, prefix: `${ch}:` })
            const bus = yield* RedisBus.make({ cluster, channel: ch })
            return { cache: yield* Cache.make({}, store, bus), bus }
          }),
          scope,
        ),
      )
    const a = await make()
    const b = await make()
    await Effect.runPromise(a.cache.set(Profiles, 1, { name: "v1" }))
    await eventually(async () => b.bus.diagnostics().received >= 1, 2_000, 2)
    await Effect.runPromise(b.cache.get(Profiles, 1))
    expect(b.cache.peekUnsafe(Profiles, 1)).toEqual({ name: "v1" })
    await Effect.runPromise(a.cache.set(Profiles, 1, { name: "v2" }))
    expect(await eventually(async () => b.cache.peekUnsafe(Profiles, 1) === undefined, 2_000, 5)).toBe(true)
    expect(await Effect.runPromise(b.cache.get(Profiles, 1))).toEqual(Option.some({ name: "v2" }))
  })
})
