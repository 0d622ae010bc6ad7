import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Thumbnails = Keyspace.make({
  name: "media.thumbnail",
  key: Schema.Struct({ id: Schema.Int }),
  value: Schema.Uint8Array,
  ttl: "1 hour",
})

export const main = async () => {
  // #region sizing
  const cache = await createCache({
    l1: {
      maxEntries: 1_000, // default 10,000
      maxBytes: 4 * 1024 * 1024, // 4 MiB of encoded entries; default 64 MiB
    },
    maxEntryBytes: 256 * 1024, // larger entries fail with EntryTooLarge; default 1 MiB
  })
  // #endregion sizing
  const thumbnails = cache.keyspace(Thumbnails)
  // 2,000 thumbnails of 8 KiB (16 MiB): L1 keeps what its bounds allow and evicts the rest (SIEVE).
  for (let id = 0; id < 2_000; id++) await thumbnails.set({ id }, new Uint8Array(8 * 1024).fill(id % 256))
  const { l1Entries, l1Bytes } = cache.stats()
  await cache.close()
  return { l1Entries, l1Bytes }
}
