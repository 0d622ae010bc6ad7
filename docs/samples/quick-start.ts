import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

// Declare once: key schema, value schema, TTL, grace, tags.
const Profiles = Keyspace.make({
  name: "user.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) }),
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
})

const loadProfileFromDb = async (userId: number) => ({ name: `User ${userId}`, plan: "pro" as const })

export const main = async () => {
  const cache = await createCache() // in-process L1; add `l2` for a shared tier
  const profiles = cache.keyspace(Profiles)
  const profile = await profiles.getOrSet({ userId: 42 }, ({ userId }) => loadProfileFromDb(userId))
  await cache.invalidateTag("user:42") // every entry tagged user:42 is now a miss
  await cache.close()
  return profile // typed { name: string; plan: "free" | "pro" }
}
