import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Cache, InvalidKey, Keyspace, LoaderFailed } from "@strata/core"
import { Computed } from "@strata/patterns"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const Ratings = Keyspace.make({
  name: "computed.rating",
  key: Schema.Struct({ productId: Schema.Int, version: Schema.Int }),
  value: Schema.Number,
  ttl: "1 minute",
  tags: ({ productId }) => [`product:${productId}`],
})

interface Product {
  readonly id: number
  readonly version: number
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe("per-instance memo", () => {
  it("computes once per instance, separately for each instance, again after forget", () => {
    let runs = 0
    const totalOf = Computed.memo((lines: Array<number>) => {
      runs++
      return lines.reduce((a, b) => a + b, 0)
    })
    const a = [1, 2]
    const b = [1, 2]
    expect([totalOf(a), totalOf(a), totalOf(b)]).toEqual([3, 3, 3])
    expect(runs).toBe(2)
    a.push(10)
    expect(totalOf(a)).toBe(3) // remembered, as cached_property does
    totalOf.forget(a)
    expect(totalOf(a)).toBe(13)
    expect(runs).toBe(3)
  })

  it("a rejected Promise is not kept: the next call computes again", async () => {
    let runs = 0
    const load = Computed.memo(async (_self: object) => {
      runs++
      if (runs === 1) throw new Error("first call fails")
      return "ok"
    })
    const self = {}
    await expect(load(self)).rejects.toThrow("first call fails")
    expect(await load(self)).toBe("ok")
    expect(await load(self)).toBe("ok")
    expect(runs).toBe(2)
  })

  it("@lazy (applied as TC39 does) keeps one value per instance and name; forget drops it", () => {
    let runs = 0
    const getter = Computed.lazy(
      function (this: { n: number }) {
        runs++
        return this.n * 2
      },
      { name: "double" } as ClassGetterDecoratorContext<{ n: number }, number>,
    )
    const x = { n: 2 }
    const y = { n: 5 }
    expect([getter.call(x), getter.call(x), getter.call(y)]).toEqual([4, 4, 10])
    Computed.forget(x, "double")
    x.n = 3
    expect(getter.call(x)).toBe(6)
    Computed.forget(y)
    expect(getter.call(y)).toBe(10)
    expect(runs).toBe(4)
  })
})

describe.each(t.all)("cross-instance cached function ($name)", (tier) => {
  it("instances of the same record share a value; a new version or a tag computes again", async () => {
    const cache = await tier.open()
    const computed: Array<string> = []
    const ratingOf = Computed.cachedFunction(
      { cache, keyspace: Ratings, key: (p: Product) => ({ productId: p.id, version: p.version }) },
      async (p: Product) => {
        computed.push(`${p.id}v${p.version}`)
        return p.id + p.version / 10
      },
    )
    expect(await ratingOf({ id: 1, version: 1 })).toBe(1.1)
    expect(await ratingOf({ id: 1, version: 1 })).toBe(1.1)
    expect(await ratingOf({ id: 1, version: 2 })).toBe(1.2)
    await cache.invalidateTag("product:1")
    await ratingOf({ id: 1, version: 2 })
    expect(computed).toEqual(["1v1", "1v2", "1v2"])
  })

  it("a throwing computation is LoaderFailed and not cached; a bad key is InvalidKey", async () => {
    const cache = await tier.open()
    let fail = true
    const f = Computed.cachedFunction(
      { cache, keyspace: Ratings, key: (p: Product) => ({ productId: p.id, version: p.version }) },
      (p: Product) => {
        if (fail) throw new Error("no reviews service")
        return p.id
      },
    )
    await expect(f({ id: 2, version: 1 })).rejects.toBeInstanceOf(LoaderFailed)
    fail = false
    expect(await f({ id: 2, version: 1 })).toBe(2)
    await expect(f({ id: 2.5, version: 1 })).rejects.toBeInstanceOf(InvalidKey)
  })
})

describe("decorators, as TypeScript code compiled for Node 20 runs them", () => {
  const fixture = fileURLToPath(new URL("./fixtures/decorators.ts", import.meta.url))
  const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url))
  const runFixture = async (redisUrl: string | undefined) => {
    const { REDIS_URL: _, ...inherited } = process.env
    const { stdout } = await promisify(execFile)(tsx, ["--conditions=@strata/source", fixture], {
      env: redisUrl === undefined ? inherited : { ...inherited, REDIS_URL: redisUrl },
      timeout: 60_000,
    })
    return JSON.parse(stdout)
  }

  it.each(["memory", "redis"] as const)("@lazy and @cached on %s", async (tier) => {
    const out = await runFixture(tier === "redis" ? t.server().url : undefined)
    expect(out.totals).toEqual([350, 350, 1, 350])
    expect(out.computed).toBe(3)
    expect(out.results).toEqual([4.3, 4.3, 4.257, 4.3, 4.3])
    expect(out.ratings).toBe(4)
    // A second process: with Redis it reads the first one's value; on the memory tier it computes its own.
    expect(out.fromOther).toBe(tier === "redis" ? 4.3 : -1)
    expect(out.otherComputed).toBe(tier === "redis" ? 0 : 1)
  })
})

describe("cachedEffect (Effect form)", () => {
  it("caches through the Cache service and keeps the typed error, uncached", async () => {
    class NoReviews extends Schema.TaggedError<NoReviews>()("NoReviews", {}) {}
    let runs = 0
    const ratingOf = Computed.cachedEffect(
      Ratings,
      (p: Product) => ({ productId: p.id, version: p.version }),
      (p: Product) =>
        Effect.suspend(() => {
          runs++
          return p.id === 0 ? Effect.fail(new NoReviews()) : Effect.succeed(p.id * 1.5)
        }),
    )
    const program = Effect.gen(function* () {
      const a = yield* ratingOf({ id: 2, version: 1 })
      const b = yield* ratingOf({ id: 2, version: 1 })
      const failed = yield* ratingOf({ id: 0, version: 1 }).pipe(
        Effect.catchTag("NoReviews", (e) => Effect.succeed(e._tag)),
      )
      yield* ratingOf({ id: 0, version: 1 }).pipe(Effect.ignore)
      return [a, b, failed]
    })
    expect(await Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))).toEqual([3, 3, "NoReviews"])
    expect(runs).toBe(3)
  })
})
