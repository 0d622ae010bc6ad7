/**
 * Cache-aside reads, one key or many, with the counting the shop's table
 * shows (see `Meters.ts`): `getOrSet` / `getOrSetMany` with the loader
 * wrapped so this module knows which reads loaded, which joined a load in
 * flight, and which the tiers answered.
 */
import type { ShopClient } from "../Context.ts"
import type { Meter } from "../Meters.ts"

/** A keyspace client with the per-key flight bookkeeping that tells a joined read from an L2 hit. */
export interface Reader<K, V> {
  readonly name: string
  readonly client: ShopClient<K, V>
  /** Loads running in this process, by store key. */
  readonly loading: Map<string, number>
  /** Loads finished in this process, by store key (kept small: cleared when large). */
  readonly loaded: Map<string, number>
  readonly storeKey: (key: K) => string
}

/** Wraps a keyspace client for {@link getOrSet} and {@link getOrSetMany}. */
export const reader = <K, V>(
  name: string,
  client: ShopClient<K, V>,
  storeKey: (key: K) => string,
): Reader<K, V> => ({ name, client, loading: new Map(), loaded: new Map(), storeKey })

const began = (reader: Reader<any, any>, key: string) =>
  reader.loading.set(key, (reader.loading.get(key) ?? 0) + 1)
const ended = (reader: Reader<any, any>, key: string) => {
  const left = (reader.loading.get(key) ?? 1) - 1
  if (left === 0) reader.loading.delete(key)
  else reader.loading.set(key, left)
  if (reader.loaded.size > 100_000) reader.loaded.clear()
  reader.loaded.set(key, (reader.loaded.get(key) ?? 0) + 1)
}

/** Counts a read that neither hit L1 nor ran the loader (on the route too unless `keyspaceOnly`). */
const countOther = (meter: Meter, name: string, joined: boolean, keyspaceOnly = false) => {
  const space = meter.keyspace(name)
  if (joined) {
    if (!keyspaceOnly) meter.route.joined++
    space.joined++
  } else {
    if (!keyspaceOnly) meter.route.hitsL2++
    space.hitsL2++
  }
}

/** The value of `key`: from L1, L2, a load in flight, or `load` (called once for concurrent callers). */
export const getOrSet = async <K, V>(
  reader: Reader<K, V>,
  meter: Meter,
  key: K,
  load: (key: K) => Promise<V>,
): Promise<V> => {
  const space = meter.keyspace(reader.name)
  const hit = reader.client.peek(key)
  if (hit !== undefined) {
    meter.route.hitsL1++
    space.hitsL1++
    return hit
  }
  const storeKey = reader.storeKey(key)
  const inFlight = reader.loading.has(storeKey)
  const loadsBefore = reader.loaded.get(storeKey) ?? 0
  let loadedHere = false
  const value = await reader.client.getOrSet(key, async (k) => {
    loadedHere = true
    meter.route.loads++
    space.loads++
    began(reader, storeKey)
    try {
      return await load(k)
    } finally {
      ended(reader, storeKey)
    }
  })
  if (!loadedHere)
    countOther(meter, reader.name, inFlight || (reader.loaded.get(storeKey) ?? 0) > loadsBefore)
  return value
}

/**
 * The values of `keys` in order (`undefined` where the database has no row):
 * L1 hits first, the rest through one `getOrSetMany` whose misses are loaded
 * with one `loadMany` call. Its hits count on the keyspace only: the route's
 * hits are those of its own read (the ID list, the search), one per request.
 */
export const getOrSetMany = async <K, V>(
  reader: Reader<K, V>,
  meter: Meter,
  keys: ReadonlyArray<K>,
  loadMany: (keys: ReadonlyArray<K>) => Promise<ReadonlyArray<V | undefined>>,
): Promise<Array<V | undefined>> => {
  const space = meter.keyspace(reader.name)
  const values: Array<V | undefined> = keys.map((key) => reader.client.peek(key))
  const missing: Array<number> = []
  values.forEach((value, i) => {
    if (value === undefined) missing.push(i)
  })
  space.hitsL1 += keys.length - missing.length
  if (missing.length === 0) return values
  let loadedKeys = 0
  const found = await reader.client.getOrSetMany(
    missing.map((i) => keys[i]!),
    async (misses) => {
      loadedKeys += misses.length
      meter.route.loads++
      space.loads++
      return loadMany(misses)
    },
  )
  found.forEach((value, j) => {
    values[missing[j]!] = value
  })
  // Keys the tiers or another caller's load answered (getOrSetMany has no per-key flight to join).
  for (let i = 0; i < missing.length - loadedKeys; i++) countOther(meter, reader.name, false, true)
  return values
}
