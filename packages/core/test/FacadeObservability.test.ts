import { createCache, InvalidArgument, Keyspace } from "@strata/core"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const Items = Keyspace.make({
  name: "facade.logged",
  key: Schema.String,
  value: Schema.String,
  ttl: "1 minute",
})

describe("facade logging", () => {
  it("a logger without warn and error, or an otlp without a url, is InvalidArgument before anything starts", async () => {
    await expect(createCache({ logger: {} as never })).rejects.toBeInstanceOf(InvalidArgument)
    await expect(createCache({ logger: { warn: () => {} } as never })).rejects.toBeInstanceOf(InvalidArgument)
    await expect(createCache({ otlp: { url: 42 } as never })).rejects.toBeInstanceOf(InvalidArgument)
  })

  it("events reach the logger with their fields; a logger with only warn and error is enough", async () => {
    const lines: Array<[string, Record<string, unknown>, string | undefined]> = []
    const cache = await createCache({
      logger: {
        warn: (object, message) => lines.push(["warn", object, message]),
        error: (object, message) => lines.push(["error", object, message]),
      },
    })
    const items = cache.keyspace(Items)
    cache.on(() => {
      throw new Error("listener bug")
    })
    await items.set("k", "old", { ttl: 1, staleFor: "1 minute" })
    await new Promise((resolve) => setTimeout(resolve, 5))
    // A stale value served is info: this logger has no info, so nothing is logged for it.
    expect(
      await items.getOrSet("k", () => {
        throw new Error("down")
      }),
    ).toBe("old")
    await cache.close()
    expect(lines.filter(([level]) => level === "warn").map(([, , message]) => message)).toEqual([
      'strata cache "default": an event listener threw on StaleServed',
    ])
    expect(lines[0]![1].err).toBeInstanceOf(Error)
  })
})
