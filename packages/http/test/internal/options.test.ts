import { createCache } from "@strata/core"
import { CachedFetch, HttpKeyspace, InvalidHttpInput, ResponseCache } from "@strata/http"
import { afterAll, describe, expect, it } from "vitest"

const cachePromise = createCache()
afterAll(async () => (await cachePromise).close())

const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (error) {
    if (error instanceof InvalidHttpInput) return error.reason
    throw error
  }
  return undefined
}

describe("options a user misspells are refused, not ignored", () => {
  it("HttpKeyspace.make, ResponseCache.make and CachedFetch.make throw InvalidHttpInput (option) for an unknown option", async () => {
    const cache = await cachePromise
    const keyspace = HttpKeyspace.make({ name: "typos", ttl: "1 minute" })
    expect(reasonOf(() => HttpKeyspace.make({ name: "t", ttl: 1_000, bogus: 1 } as never))).toBe("option")
    expect(reasonOf(() => ResponseCache.make({ cache, keyspace, idenity: () => "u" } as never))).toBe(
      "option",
    )
    expect(reasonOf(() => CachedFetch.make({ cache, keyspace, keyHeader: ["accept"] } as never))).toBe(
      "option",
    )
    // Spelled right, they are accepted.
    expect(reasonOf(() => CachedFetch.make({ cache, keyspace, keyHeaders: ["accept"] }))).toBeUndefined()
  })

  it("a keyHeaders entry that is no header name is InvalidHttpInput (header)", async () => {
    const cache = await cachePromise
    const keyspace = HttpKeyspace.make({ name: "headers", ttl: "1 minute" })
    for (const name of ["bad header", "", "x:y", 42])
      expect(reasonOf(() => CachedFetch.make({ cache, keyspace, keyHeaders: [name as string] }))).toBe(
        "header",
      )
  })
})
