import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import {
  CacheClosed,
  createCache,
  InvalidArgument,
  InvalidDuration,
  InvalidKey,
  InvalidValue,
  Keyspace,
  LoaderCycle,
  MemoryStore,
} from "@strata/core"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const Items = Keyspace.make({ name: "facade.item", key: Schema.String, value: Schema.String, ttl: "1 hour" })
const Likes = Keyspace.counter({ name: "facade.likes", key: Schema.String, ttl: "1 day" })

/** The `_tag` a promise rejects with, or "resolved". */
const tagOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (error as { _tag?: string })._tag ?? `untagged: ${String(error)}`,
  )

describe("close and what follows it", () => {
  it("every call after close rejects with CacheClosed, and closing twice is harmless", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    const items = cache.keyspace(Items)
    const likes = cache.keyspace(Likes)
    await items.set("k", "v")
    await cache.close()
    await cache.close()
    const calls = [
      items.get("k"),
      items.getOrSet("k", async () => "x"),
      items.set("k", "v"),
      items.delete("k"),
      items.getMany(["k"]),
      items.setMany([["k", "v"]]),
      items.clear(),
      likes.increment("n"),
      cache.invalidateTag("t"),
      cache.metrics(),
    ]
    for (const call of calls) expect(await tagOf(call)).toBe("CacheClosed")
    expect(() => items.peek("k")).toThrow(CacheClosed)
  })

  it("a call in flight when close runs rejects with CacheClosed, not a bare interruption", async () => {
    const cache = await createCache()
    const items = cache.keyspace(Items)
    const pending = items.getOrSet(
      "slow",
      () => new Promise<string>((resolve) => setTimeout(() => resolve("late"), 5_000)),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    await cache.close()
    expect(await tagOf(pending)).toBe("CacheClosed")
  })

  it("await using closes the cache (Symbol.asyncDispose)", async () => {
    const cache = await createCache()
    {
      await using scoped = cache
      await scoped.keyspace(Items).set("k", "v")
    }
    expect(await tagOf(cache.keyspace(Items).get("k"))).toBe("CacheClosed")
  })

  it("a memory-only cache that is never closed does not keep the process alive", () => {
    const script = `
      import { createCache, Keyspace } from "@strata/core"
      import { Schema } from "effect"
      const Items = Keyspace.make({ name: "x", key: Schema.String, value: Schema.String, ttl: "1 hour" })
      const cache = await createCache({ metricsIntervalMillis: 50 })
      await cache.keyspace(Items).getOrSet("k", async () => "v")
      console.log("done")
    `
    const started = Date.now()
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "--conditions=@strata/source", "--input-type=module", "-e", script],
      {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        encoding: "utf8",
        timeout: 20_000,
      },
    )
    expect(result.stdout.trim(), result.stderr).toBe("done")
    expect(result.status, "the process exited by itself").toBe(0)
    expect(Date.now() - started).toBeLessThan(15_000)
  }, 30_000)
})

describe("every failure is a documented tagged error", () => {
  const throwing = new Proxy(
    {},
    {
      get() {
        throw new Error("trap")
      },
      ownKeys() {
        throw new Error("trap")
      },
    },
  )
  const getterKey = Object.defineProperty({}, "id", {
    enumerable: true,
    get() {
      throw new TypeError("getter")
    },
  })
  const Structs = Keyspace.make({
    name: "facade.struct",
    key: Schema.Struct({ id: Schema.String }),
    value: Schema.Struct({ name: Schema.String }),
    ttl: "1 hour",
  })

  it("keys and values whose getters or proxy traps throw: InvalidKey / InvalidValue, nothing written", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    const structs = cache.keyspace(Structs)
    for (const key of [throwing, getterKey]) {
      expect(await tagOf(structs.get(key as never))).toBe("InvalidKey")
      expect(await tagOf(structs.getOrSet(key as never, async () => ({ name: "n" })))).toBe("InvalidKey")
      expect(await tagOf(structs.set(key as never, { name: "n" }))).toBe("InvalidKey")
      expect(await tagOf(structs.delete(key as never))).toBe("InvalidKey")
      expect(await tagOf(structs.getMany([key as never]))).toBe("InvalidKey")
      expect(() => structs.peek(key as never)).toThrow(InvalidKey)
    }
    const getterValue = Object.defineProperty({}, "name", {
      enumerable: true,
      get: () => {
        throw new Error("getter")
      },
    })
    for (const value of [throwing, getterValue]) {
      expect(await tagOf(structs.set({ id: "a" }, value as never))).toBe("InvalidValue")
    }
    expect(await tagOf(structs.getOrSet({ id: "b" }, async () => getterValue as never))).toBe("InvalidValue")
    // A loader resolving to a proxy whose traps throw fails inside the Promise machinery (reading `then`).
    expect(await tagOf(structs.getOrSet({ id: "c" }, async () => throwing as never))).toBe("LoaderFailed")
    expect(await structs.get({ id: "a" })).toBeUndefined()
    await cache.close()
  })

  it("bad options reject createCache with InvalidArgument or InvalidDuration, never UnknownError", async () => {
    const bad: Array<[object, string]> = [
      [{ l1: { maxEntries: -1 } }, "InvalidArgument"],
      [{ l1: { maxEntries: 1.5 } }, "InvalidArgument"],
      [{ l1: { maxBytes: Number.NaN } }, "InvalidArgument"],
      [{ maxEntryBytes: Number.NaN }, "InvalidArgument"],
      [{ maxEntryBytes: "1" }, "InvalidArgument"],
      [{ metricsIntervalMillis: 0 }, "InvalidArgument"],
      [{ circuitBreaker: { failures: 0 } }, "InvalidArgument"],
      [{ lease: { ttl: "banana" } }, "InvalidDuration"],
      [{ lease: { pollInterval: Number.NaN } }, "InvalidDuration"],
      [{ loader: { softTimeout: {} } }, "InvalidDuration"],
      [{ l1: { busDownMaxTtl: -5 } }, "InvalidDuration"],
      [{ l2ReadErrors: "sometimes" }, "InvalidArgument"],
      [{ l1: 42 }, "InvalidArgument"],
      // Unknown options (typos, another library's options) are not ignored.
      [{ bogus: 1 }, "InvalidArgument"],
      [{ l1: { maxEntry: 5 } }, "InvalidArgument"],
      [{ lease: { timeout: 5 } }, "InvalidArgument"],
    ]
    for (const [options, tag] of bad)
      expect(await tagOf(createCache(options as never)), JSON.stringify(options)).toBe(tag)
  })

  it("a loader calling getOrSet for its own key (or through another key) rejects with LoaderCycle, promptly", async () => {
    const cache = await createCache()
    const items = cache.keyspace(Items)
    const started = Date.now()
    const self = items.getOrSet("a", () => items.getOrSet("a", async () => "never"))
    await expect(self).rejects.toBeInstanceOf(LoaderCycle)
    const loadA = (): Promise<string> => items.getOrSet("b", loadB)
    const loadB = (): Promise<string> => items.getOrSet("c", loadA)
    await expect(items.getOrSet("c", loadA)).rejects.toBeInstanceOf(LoaderCycle)
    expect(Date.now() - started).toBeLessThan(2_000)
    await cache.close()
  })

  it("with loaderCycles: async-context, a cycle reached after an await is found too", async () => {
    const cache = await createCache({ loaderCycles: "async-context" })
    const items = cache.keyspace(Items)
    const loadX = async (): Promise<string> => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return items.getOrSet("y", loadY)
    }
    const loadY = async (): Promise<string> => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return items.getOrSet("x", loadX)
    }
    await expect(items.getOrSet("x", loadX)).rejects.toBeInstanceOf(LoaderCycle)
    await expect(createCache({ loaderCycles: "always" as never })).rejects.toBeInstanceOf(InvalidArgument)
    await cache.close()
  })

  it("a throwing event listener changes no result and crashes nothing; it is counted", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    cache.on(() => {
      throw new Error("listener bug")
    })
    const Graceful = Keyspace.make({
      name: "facade.grace",
      key: Schema.String,
      value: Schema.String,
      ttl: 1,
      staleFor: "1 hour",
    })
    const items = cache.keyspace(Graceful)
    await items.set("k", "old")
    await new Promise((resolve) => setTimeout(resolve, 5))
    // The loader fails: a StaleServed event goes to the throwing listener; the caller still gets the stale value.
    expect(
      await items.getOrSet("k", async () => {
        throw new Error("db down")
      }),
    ).toBe("old")
    expect(cache.stats().listenerErrors).toBeGreaterThan(0)
    await cache.close()
  })
})

describe("numbers are checked before any I/O", () => {
  const hostile: Array<unknown> = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1.5,
    2 ** 53,
    "1",
    {},
    null,
    true,
  ]

  it("increment rejects a by that is not a safe integer with InvalidArgument, and the counter is unchanged", async () => {
    for (const options of [{}, { l2: MemoryStore.layer() }]) {
      const cache = await createCache(options)
      const likes = cache.keyspace(Likes)
      expect(await likes.increment("n", 5)).toBe(5)
      for (const by of hostile) {
        const error = await likes.increment("n", by as number).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error, String(by)).toBeInstanceOf(InvalidArgument)
      }
      expect(await likes.increment("n", -0)).toBe(5)
      expect(await likes.get("n")).toBe(5)
      await cache.close()
    }
  })

  it("per-call durations are checked, and ttl + staleFor follows the keyspace's limit (2^31 - 1 ms)", async () => {
    const cache = await createCache()
    const items = cache.keyspace(Items)
    for (const ttl of [Number.NaN, -1, 0, {}, "soon", 2 ** 31]) {
      expect(await tagOf(items.set("k", "v", { ttl: ttl as never })), String(ttl)).toBe("InvalidDuration")
      expect(await tagOf(items.getOrSet("k", async () => "v", { ttl: ttl as never })), String(ttl)).toBe(
        "InvalidDuration",
      )
    }
    for (const soft of [Number.NaN, -1, {}, "soon"]) {
      expect(
        await tagOf(items.getOrSet("k", async () => "v", { softTimeout: soft as never })),
        String(soft),
      ).toBe("InvalidDuration")
    }
    const sum = await tagOf(items.set("k", "v", { ttl: 2 ** 30, staleFor: 2 ** 30 }))
    expect(sum).toBe("InvalidDuration")
    expect(() =>
      Keyspace.make({
        name: "too.long",
        key: Schema.String,
        value: Schema.String,
        ttl: 2 ** 30,
        staleFor: 2 ** 30,
      }),
    ).toThrow()
    expect(await items.get("k")).toBeUndefined()
    await cache.close()
    void InvalidDuration
    void InvalidValue
  })

  it("a misspelt per-call option is InvalidArgument, and nothing is written or loaded", async () => {
    const cache = await createCache()
    const items = cache.keyspace(Items)
    let loads = 0
    const loader = async () => {
      loads++
      return "v"
    }
    const typo = { tll: 5 } as never
    expect(await tagOf(items.set("k", "v", typo))).toBe("InvalidArgument")
    expect(await tagOf(items.setMany([["k", "v"]], typo))).toBe("InvalidArgument")
    expect(await tagOf(items.update("k", () => "v", typo))).toBe("InvalidArgument")
    expect(await tagOf(items.getOrSet("k", loader, typo))).toBe("InvalidArgument")
    expect(await tagOf(items.getOrSetMany(["k"], async () => ["v"], { softTimout: 5 } as never))).toBe(
      "InvalidArgument",
    )
    // A load's own options are not a write's.
    expect(await tagOf(items.set("k", "v", { softTimeout: 5 } as never))).toBe("InvalidArgument")
    expect(loads).toBe(0)
    expect(await items.get("k")).toBeUndefined()
    // The right names still pass.
    await items.set("k", "v", { ttl: 5_000, staleFor: 1_000 })
    expect(await items.getOrSet("j", loader, { ttl: 5_000, softTimeout: 100, hardTimeout: 1_000 })).toBe("v")
    await cache.close()
  })
})

describe("getOrSetMany and update through the facade", () => {
  it("getOrSetMany loads the misses with one call and answers undefined for a key with no row", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    const items = cache.keyspace(Items)
    await items.set("cached", "c")
    const calls: Array<ReadonlyArray<string>> = []
    const rows = await items.getOrSetMany(["a", "cached", "gone"], async (keys) => {
      calls.push(keys)
      return keys.map((k) => (k === "gone" ? undefined : `row:${k}`))
    })
    expect(rows).toEqual(["row:a", "c", undefined])
    expect(calls).toEqual([["a", "gone"]])
    await cache.close()
  })

  it("update keeps every concurrent change", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    const items = cache.keyspace(Items)
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => items.update("list", (current) => `${current ?? ""}${i},`)),
    )
    expect((await items.get("list"))!.split(",").filter(Boolean).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)).sort(),
    )
    await cache.close()
  })
})
