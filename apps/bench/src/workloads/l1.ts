/** W1–W4: the L1 hit, through each entry point, against the floor of a bare Map read. */
import { Effect } from "effect"
import { LRUCache } from "lru-cache"
import { interleave, median, nsPerAsync, nsPerSync, user } from "../measure.ts"
import { meets, round, type WorkloadResult } from "../report.ts"
import { bentocache, cacheable, cacheManager, Labels, strata, strataFacade, Users } from "../systems.ts"
import type { Workload } from "../workload.ts"

const KEYS = 8_000

/** The floor: a Map of the same key strings (built per call, as Strata builds them), with an expiry check on a cached clock. */
const mapFloor = () => {
  const map = new Map<string, { value: unknown; expiresAt: number }>()
  const expiresAt = Date.now() + 3_600_000
  for (let i = 0; i < KEYS; i++) map.set(`bench.user:v1:userId=${i}`, { value: user(i), expiresAt })
  const now = Date.now()
  return (i: number) => {
    const entry = map.get(`bench.user:v1:userId=${i}`)
    return entry !== undefined && entry.expiresAt > now ? entry.value : undefined
  }
}

const result = (
  id: string,
  name: string,
  target: string,
  ratioOf: string,
  baseline: string,
  rows: Array<{ system: string; metric: string; value: number }>,
  ratio: number,
  notes?: string,
): WorkloadResult => ({
  id,
  name,
  rows: rows.map((r) => ({ ...r, value: round(r.value) })),
  baseline,
  ratio: round(ratio),
  target,
  met: meets(ratio, target),
  ratioOf,
  ...(notes === undefined ? {} : { notes }),
})

export const W1: Workload = {
  id: "W1",
  name: "L1 hit, synchronous fast path, 8k hot keys, TTL on",
  run: async ({ rounds, scale }) => {
    const system = await strata({ l1: { maxEntries: KEYS * 2 } })
    for (let i = 0; i < KEYS; i++) await Effect.runPromise(system.cache.set(Users, { userId: i }, user(i)))
    const floor = mapFloor()
    const lru = new LRUCache<string, object>({ max: KEYS * 2, ttl: 3_600_000 })
    for (let i = 0; i < KEYS; i++) lru.set(`bench.user:v1:userId=${i}`, user(i))
    const ops = scale(2_000_000, 300_000)
    const samples = await interleave(rounds, {
      strata: () => nsPerSync(ops, KEYS, (i) => system.cache.peekUnsafe(Users, { userId: i })),
      map: () => nsPerSync(ops, KEYS, floor),
      "lru-cache": () => nsPerSync(ops, KEYS, (i) => lru.get(`bench.user:v1:userId=${i}`)),
    })
    await system.close()
    const s = median(samples.strata)
    const m = median(samples.map)
    return result(
      "W1",
      W1.name,
      "<= 1.5",
      "strata ns per hit / Map floor ns per hit",
      "map",
      [
        { system: "strata", metric: "ns_per_op", value: s },
        { system: "map", metric: "ns_per_op", value: m },
        { system: "lru-cache", metric: "ns_per_op", value: median(samples["lru-cache"]) },
      ],
      s / m,
    )
  },
}

export const W2: Workload = {
  id: "W2",
  name: "L1 hit via the Effect API inside a running fiber",
  run: async ({ rounds, scale }) => {
    const system = await strata({ l1: { maxEntries: KEYS * 2 } })
    for (let i = 0; i < KEYS; i++) await Effect.runPromise(system.cache.set(Users, { userId: i }, user(i)))
    const floor = mapFloor()
    const ops = scale(500_000, 100_000)
    const inFiber = (f: (i: number) => Effect.Effect<unknown, unknown>) =>
      Effect.runPromise(
        Effect.gen(function* () {
          const started = performance.now()
          for (let i = 0; i < ops; i++) yield* f(i % KEYS)
          return ((performance.now() - started) * 1e6) / ops
        }),
      )
    const samples = await interleave(rounds, {
      strata: () => inFiber((i) => system.cache.get(Users, { userId: i })),
      effectSync: () => inFiber((i) => Effect.sync(() => floor(i))),
    })
    await system.close()
    const s = median(samples.strata)
    const b = median(samples.effectSync)
    return result(
      "W2",
      W2.name,
      "<= 2",
      "strata ns per hit / yield* Effect.sync(map.get) ns",
      "effect-sync-map",
      [
        { system: "strata", metric: "ns_per_op", value: s },
        { system: "effect-sync-map", metric: "ns_per_op", value: b },
      ],
      s / b,
    )
  },
}

export const W3: Workload = {
  id: "W3",
  name: "L1 hit as a standalone call (Promise facade)",
  run: async ({ rounds, scale, redis, prefix }) => {
    // Fewer keys only in a smoke run (scale divides the quick value there).
    const KEYS = scale(8_000, 8_000)
    const facade = await strataFacade(redis.url, prefix)
    const users = facade.keyspace(Users)
    const peers = [bentocache(redis.port), cacheManager(redis.url), cacheable(redis.url)]
    for (let i = 0; i < KEYS; i++) {
      await users.set({ userId: i }, user(i))
      for (const peer of peers) await peer.set(`${prefix}user:${i}`, user(i))
    }
    // Warm every L1 (a get after a set is an L1 hit for all of them).
    for (let i = 0; i < KEYS; i++) for (const peer of peers) await peer.get(`${prefix}user:${i}`)
    const floor = mapFloor()
    const ops = scale(300_000, 50_000)
    const peerOps = scale(100_000, 20_000)
    const samples: Record<string, Array<number>> = await interleave(rounds, {
      strata: () => nsPerAsync(ops, KEYS, (i) => users.get({ userId: i })),
      floor: () => nsPerAsync(ops, KEYS, (i) => Promise.resolve(floor(i))),
      ...Object.fromEntries(
        peers.map((peer) => [
          peer.name,
          () => nsPerAsync(peerOps, KEYS, (i) => peer.get(`${prefix}user:${i}`)),
        ]),
      ),
    })
    await facade.close()
    for (const peer of peers) await peer.close()
    const s = median(samples.strata!)
    const f = median(samples.floor!)
    const bento = median(samples.bentocache!)
    const rows = Object.entries(samples).map(([system, values]) => ({
      system,
      metric: "ns_per_op",
      value: median(values),
    }))
    const vsBento = bento / s
    return {
      ...result("W3", W3.name, "<= 2", "strata ns per hit / awaited Map read ns", "floor", rows, s / f),
      met: meets(s / f, "<= 2") && vsBento >= 3,
      target: "<= 2 (and >= 3x faster than bentocache)",
      notes: `bentocache / strata = ${round(vsBento)} (target >= 3)`,
    }
  },
}

export const W4: Workload = {
  id: "W4",
  name: "L1 hit, 1 KB object vs a short string",
  run: async ({ rounds, scale }) => {
    const system = await strata({ l1: { maxEntries: KEYS * 4 } })
    for (let i = 0; i < KEYS; i++) {
      await Effect.runPromise(system.cache.set(Users, { userId: i }, user(i)))
      await Effect.runPromise(system.cache.set(Labels, { userId: i }, `label ${i}`))
    }
    const ops = scale(2_000_000, 300_000)
    const samples = await interleave(rounds, {
      object: () => nsPerSync(ops, KEYS, (i) => system.cache.peekUnsafe(Users, { userId: i })),
      string: () => nsPerSync(ops, KEYS, (i) => system.cache.peekUnsafe(Labels, { userId: i })),
    })
    await system.close()
    const o = median(samples.object)
    const s = median(samples.string)
    return result(
      "W4",
      W4.name,
      "<= 1.2",
      "ns per 1 KB object hit / ns per short string hit",
      "strata-string",
      [
        { system: "strata-object", metric: "ns_per_op", value: o },
        { system: "strata-string", metric: "ns_per_op", value: s },
      ],
      o / s,
    )
  },
}

export { result }
