/**
 * Issue 9, item 6: a loader that asks, directly or through other loaders,
 * for a key whose load it is part of fails promptly with `LoaderCycle`
 * instead of waiting for itself for ever. Loaders that merely nest (ask
 * for other keys) keep working.
 */
import { createCache, Keyspace, MemoryStore, type StrataCache } from "@strata/core"
import { RedisStore } from "@strata/redis"
import { Schema } from "effect"
import { describe, expect, inject, it } from "vitest"
import { describeFailure, expectTagged, within } from "./contract.ts"
import { isolation, sleep } from "./nodes.ts"

const Pages = Keyspace.make({
  name: "bb.page",
  key: Schema.String,
  value: Schema.Struct({ html: Schema.String }),
  ttl: "1 minute",
})

/** How long a cycle may take to be reported. */
const PROMPT = 2_000

/**
 * The tiers, each opened with loader cycles tracked across awaits
 * (`loaderCycles: "async-context"`); the default sees only what a loader
 * calls before its first await (the first two cases below), which the
 * last test checks without the option.
 */
const tiers = {
  "L1 only": () => createCache({ loaderCycles: "async-context" }),
  "L1 over a memory store": () => createCache({ l2: MemoryStore.layer(), loaderCycles: "async-context" }),
  "L1 over Redis, leases on": () =>
    createCache({
      l2: RedisStore.layer({ url: inject("redisUrl"), prefix: isolation().prefix }),
      loaderCycles: "async-context",
    }),
}

/**
 * The cycle error of a failed call: the failure itself, or, when the outer
 * loader rethrew it, the cause of the `LoaderFailed` the Promise facade
 * wraps a loader's rejection in. Both tell the caller it was a cycle.
 */
const cycleOf = (outcome: { ok: false; error: unknown } | { ok: true; value: unknown }): unknown => {
  if (outcome.ok) return outcome.value
  const error = outcome.error as { _tag?: string; cause?: unknown }
  return error._tag === "LoaderFailed" ? error.cause : error
}

/** Closes, but never waits long on a cache that a hung loader may keep busy. */
const closeSoon = (cache: StrataCache) => within(cache.close(), 1_000)

describe("loader cycles (black box)", () => {
  for (const [tier, open] of Object.entries(tiers)) {
    it(`a loader that asks getOrSet for its own key fails with LoaderCycle within 2 s (${tier})`, async () => {
      const cache = await open()
      const pages = cache.keyspace(Pages)
      const startedAt = Date.now()
      const outcome = await within(
        pages.getOrSet("page:/", () => pages.getOrSet("page:/", () => ({ html: "inner" }))),
        PROMPT,
      )
      await closeSoon(cache)
      expect(outcome, "getOrSet settles within 2 s").not.toBe("pending")
      if (outcome !== "pending") {
        expect(outcome.ok, "the cycle is a failure").toBe(false)
        expectTagged(cycleOf(outcome), ["LoaderCycle"], "the outer getOrSet")
      }
      console.log(`direct cycle (${tier}): settled after ${Date.now() - startedAt} ms`)
    })

    it(`A's loader asks for B, whose loader asks for A: LoaderCycle within 2 s (${tier})`, async () => {
      const cache = await open()
      const pages = cache.keyspace(Pages)
      const loadA = async () => ({ html: `A with ${(await pages.getOrSet("page:b", loadB)).html}` })
      const loadB = async () => ({ html: `B with ${(await pages.getOrSet("page:a", loadA)).html}` })
      const outcome = await within(pages.getOrSet("page:a", loadA), PROMPT)
      await closeSoon(cache)
      expect(outcome, "getOrSet settles within 2 s").not.toBe("pending")
      if (outcome !== "pending" && !outcome.ok) {
        expectTagged(
          cycleOf(outcome),
          ["LoaderCycle"],
          `the outer getOrSet (${describeFailure(outcome.error)})`,
        )
      } else if (outcome !== "pending") {
        expect.fail(`the cycle resolved with ${JSON.stringify(outcome.value)}`)
      }
    })

    it(`two concurrent callers whose loaders ask for each other's keys both settle within 2 s, at least one with LoaderCycle (${tier})`, async () => {
      const cache = await open()
      const pages = cache.keyspace(Pages)
      // Each loader waits a little first, so both flights exist before either asks for the other key.
      const loadA = async () => {
        await sleep(20)
        return { html: `A with ${(await pages.getOrSet("page:d", () => ({ html: "D" }))).html}` }
      }
      const loadC = async () => {
        await sleep(20)
        return { html: `C with ${(await pages.getOrSet("page:e", loadE)).html}` }
      }
      const loadE = async () => {
        await sleep(20)
        return { html: `E with ${(await pages.getOrSet("page:c", loadC)).html}` }
      }
      const outcomes = await Promise.all([
        within(pages.getOrSet("page:c", loadC), PROMPT),
        within(pages.getOrSet("page:e", loadE), PROMPT),
        // No cycle here: a loader asking for another key is fine.
        within(pages.getOrSet("page:a", loadA), PROMPT),
      ])
      await closeSoon(cache)
      const shown = outcomes.map((o) =>
        o === "pending" ? "pending" : o.ok ? JSON.stringify(o.value) : describeFailure(o.error),
      )
      expect(
        shown.filter((o) => o === "pending"),
        `outcomes ${JSON.stringify(shown)}`,
      ).toEqual([])
      expect(shown[2]).toBe(JSON.stringify({ html: "A with D" }))
      const tags = outcomes
        .slice(0, 2)
        .map((o) => (o === "pending" || o.ok ? "ok" : describeFailure(cycleOf(o))))
      expect(tags, `outcomes ${JSON.stringify(shown)}`).toContain("LoaderCycle")
    })
  }
})

describe("loader cycles with the default detection (black box)", () => {
  it("a loader that asks for its own key, or for a key whose loader asks back, before its first await: LoaderCycle within 2 s", async () => {
    const cache = await createCache()
    const pages = cache.keyspace(Pages)
    const self = await within(
      pages.getOrSet("page:self", () => pages.getOrSet("page:self", () => ({ html: "inner" }))),
      PROMPT,
    )
    expect(self).not.toBe("pending")
    if (self !== "pending") expectTagged(cycleOf(self), ["LoaderCycle"], "direct cycle")
    const loadA = async () => ({ html: `A with ${(await pages.getOrSet("page:b2", loadB)).html}` })
    const loadB = async () => ({ html: `B with ${(await pages.getOrSet("page:a2", loadA)).html}` })
    const through = await within(pages.getOrSet("page:a2", loadA), PROMPT)
    expect(through).not.toBe("pending")
    if (through !== "pending") expectTagged(cycleOf(through), ["LoaderCycle"], "cycle through a second key")
    await closeSoon(cache)
  })
})
