import { InvalidKey, Keyspace } from "@strata/core"
import { Schema } from "effect"

// #region keyspace
export const Profiles = Keyspace.make({
  name: "user.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) }),
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
  version: 2,
})
// #endregion keyspace

// #region types
// Both types come from the schemas; nothing is annotated by hand.
export type ProfileKey = Keyspace.Key<typeof Profiles> // { readonly userId: number }
export type Profile = Keyspace.Value<typeof Profiles> // { readonly name: string; readonly plan: "free" | "pro" }

// Keys are written canonically: the same string in every process and on every run,
// inside the keyspace's namespace (its name and version).
export const namespace = Profiles.id // "user.profile:v2"
export const storageKey = Profiles.storeKey({ userId: 42 }) // "userId=42"

// A key that does not match the schema is a compile error, and InvalidKey at run time.
export const wrongKey = () =>
  // @ts-expect-error: userId is an Int, not a string
  Profiles.storeKey({ userId: "42" })
// #endregion types

/** What the page says the sample shows, for the test. */
export const main = () => {
  try {
    wrongKey()
    return { namespace, storageKey, wrongKey: "accepted" }
  } catch (error) {
    return { namespace, storageKey, wrongKey: error instanceof InvalidKey ? error._tag : String(error) }
  }
}
