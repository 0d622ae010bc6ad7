import { assert, describe, it } from "@effect/vitest"
import { Cache, Keyspace } from "@strata/core"
import { Effect, Option, Schema } from "effect"

const Profiles = Keyspace.make({
  name: "types.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) }),
  ttl: "1 hour",
})

describe("the Effect API takes its types from the keyspace", () => {
  it.effect("literal keys and values are checked against the keyspace, not used to widen its types", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      // Each line fails to compile if K or V were inferred from the argument ("pro" widening to string).
      yield* cache.set(Profiles, { userId: 1 }, { name: "Ada", plan: "pro" })
      yield* cache.setMany(Profiles, [[{ userId: 2 }, { name: "Bob", plan: "free" }]])
      const loaded = yield* cache.getOrSet(Profiles, { userId: 3 }, () =>
        Effect.succeed({ name: "Cy", plan: "pro" }),
      )
      const plan: "free" | "pro" = loaded.plan
      // @ts-expect-error a plan outside the keyspace's literals is a compile error
      yield* Effect.exit(cache.set(Profiles, { userId: 4 }, { name: "Di", plan: "gold" }))
      assert.strictEqual(plan, "pro")
      assert.deepStrictEqual(
        (yield* cache.get(Profiles, { userId: 1 })).pipe(Option.map((p) => p.plan)),
        Option.some("pro"),
      )
    }),
  )
})
