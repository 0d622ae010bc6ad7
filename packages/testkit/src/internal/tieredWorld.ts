/**
 * The real side of the tiered model: per run, two writer caches (each with
 * its own L1, store connection and bus) and fresh readers, with probes that
 * tell when every store call has returned and every bus message has been
 * delivered, so checks run only once the documented propagation is done.
 */
import { randomBytes } from "node:crypto"
import { type Bus, Cache, type CacheEvent, Keyspace, type Store } from "@strata/core"
import { Effect, Exit, type Option, Schema, Scope } from "effect"

/** The value of the two entry keyspaces. */
export const Item = Schema.Struct({ n: Schema.Int, label: Schema.String })
/** A value of the entry keyspaces. */
export type Item = typeof Item.Type

/** The key of the two entry keyspaces. */
export const ItemKey = Schema.Struct({ id: Schema.Int, name: Schema.String })
/** A key of the entry keyspaces. */
export type ItemKey = typeof ItemKey.Type

/** The two entry keyspaces: `items` carries a tag per id, `others` (a name sharing its prefix) none. */
export type Role = "items" | "others"
/** Both entry keyspaces. */
export const roles: ReadonlyArray<Role> = ["items", "others"]

/** The two writer caches, "a" and "b". */
export type Writer = "a" | "b"
/** Both writers. */
export const writers: ReadonlyArray<Writer> = ["a", "b"]

/** The `id` part of keys: few, so commands meet on the same key often. */
export const ids: ReadonlyArray<number> = [0, 1]
/** The `name` part of keys. */
export const names: ReadonlyArray<string> = ["a", "t:a", "caf\u00e9", "cafe\u0301"]
/** The keys of counters commands use. */
export const counterKeys: ReadonlyArray<string> = ["c", "c:d"]
/** Every entry key a check reads: all keys commands use (NFC twins and separators included), plus one never written. */
export const itemUniverse: ReadonlyArray<ItemKey> = [
  ...ids.flatMap((id) => names.map((name) => ({ id, name }))),
  { id: 7, name: "never" },
]
/** Every counter a check reads, including one never written. */
export const counterUniverse: ReadonlyArray<string> = [...counterKeys, "never"]

/** The tiers a run's caches use; built once per test, shared by its runs. */
export interface Tiers {
  readonly stores: { readonly a: Store.Service; readonly b: Store.Service; readonly reader: Store.Service }
  readonly buses: { readonly a: Bus.Service; readonly b: Bus.Service }
}

/** What a writer did that a check must wait for. */
interface Probe {
  /** Store calls issued and not returned. */
  inFlight: number
  /** Bus messages handed to the bus. */
  published: number
  /** Bus messages delivered to this writer's cache. */
  received: number
}

/** Versions seen above 1e14 (Lua prints such numbers in exponent form), over all runs of a test. */
export const coverage = { largeVersions: 0 }

const probeStore = (inner: Store.Service, probe: Probe): Store.Service => {
  const counted = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.suspend(() => {
      probe.inFlight++
      return Effect.ensuring(
        effect,
        Effect.sync(() => {
          probe.inFlight--
        }),
      )
    })
  const versioned = inner.versioned
  const leases = inner.leases
  return {
    ...inner,
    get: (space, key) => counted(inner.get(space, key)),
    getMany: (space, keys) => counted(inner.getMany(space, keys)),
    set: (space, key, value, ttl) => counted(inner.set(space, key, value, ttl)),
    setMany: (space, writes) => counted(inner.setMany(space, writes)),
    delete: (space, key) => counted(inner.delete(space, key)),
    increment: (space, key, by, ttl) => counted(inner.increment(space, key, by, ttl)),
    clear: (space) => counted(inner.clear(space)),
    versioned:
      versioned === undefined
        ? undefined
        : {
            get: (space, key) =>
              counted(versioned.get(space, key)).pipe(
                Effect.tap((read) =>
                  Effect.sync(() => {
                    if (read.version > 1e14) coverage.largeVersions++
                  }),
                ),
              ),
            getMany: (space, keys) => counted(versioned.getMany(space, keys)),
            fill: (space, key, value, ttl, expected) =>
              counted(versioned.fill(space, key, value, ttl, expected)),
          },
    leases:
      leases === undefined
        ? undefined
        : {
            acquire: (space, key, ttl, expected) => counted(leases.acquire(space, key, ttl, expected)),
            release: (space, key, token) => counted(leases.release(space, key, token)),
          },
    // `refresh` is deliberately not waited for: a delivered `ClearSpace` must be honoured at once
    // (RedisStore: "seen ... at once when the cache's bus delivers it"), not once a refresh returns.
  }
}

const probeBus = (
  inner: Bus.Service,
  probe: Probe,
  delivered: (event: Bus.BusEvent) => void,
): Bus.Service => ({
  ...inner,
  publish: (messages) =>
    inner.publish(messages).pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          probe.published += messages.length
        }),
      ),
    ),
  subscribe: (onEvent) =>
    inner.subscribe((event) => {
      onEvent(event)
      // Counted after the cache handled it: once counted, the invalidation is applied.
      if (event._tag !== "Gap" && event._tag !== "Dropped") probe.received++
      delivered(event)
    }),
})

/** The keyspaces of one run; names carry the run id so runs sharing a store never meet. */
export interface Spaces {
  readonly items: Keyspace.Keyspace<ItemKey, Item>
  readonly others: Keyspace.Keyspace<ItemKey, Item>
  readonly counters: Keyspace.Counter<string>
}

/** A span of wall-clock time (ms since the epoch, as the engine's `Clock` reads it). */
export interface Span {
  readonly start: number
  readonly end: number
}

/** What one cache read of the whole key universe returned. */
export interface Snapshot {
  readonly items: ReadonlyArray<Option.Option<Item>>
  readonly others: ReadonlyArray<Option.Option<Item>>
  readonly counters: ReadonlyArray<Option.Option<number>>
}

/** What a writer read the moment an invalidation reached it. */
export interface DeliveryRead {
  readonly writer: Writer
  readonly message: string
  readonly space: Role | "counters"
  readonly found: ReadonlyArray<Option.Option<unknown>>
  readonly span: Span
}

/** One run's caches and probes. */
export class World {
  readonly run = `r${randomBytes(5).toString("hex")}`
  readonly spaces: Spaces
  readonly caches = {} as Record<Writer, Cache.Service>
  private readonly probes: Record<Writer, Probe> = {
    a: { inFlight: 0, published: 0, received: 0 },
    b: { inFlight: 0, published: 0, received: 0 },
  }
  /** Loader calls in this run. */
  loads = 0
  /**
   * While true, every invalidation delivered to a writer starts, at once, a
   * read through that writer of every key of the space it concerns: the
   * strictest reading of "once delivered, no previous value is served".
   */
  readAtDelivery = false
  private deliveryReads: Array<Promise<DeliveryRead>> = []
  /** Events that no healthy run should see (undecodable entries, store failures), as text. */
  readonly troubles: Array<string> = []

  private constructor(
    private readonly tiers: Tiers,
    private readonly scope: Scope.Closeable,
    /** The keyspaces' TTL, in ms. */
    readonly ttlMillis: number,
  ) {
    const ttl = ttlMillis
    this.spaces = {
      items: Keyspace.make({
        name: `model.${this.run}.item`,
        key: ItemKey,
        value: Item,
        ttl,
        tags: ({ id }) => [this.tag(id)],
      }),
      others: Keyspace.make({ name: `model.${this.run}.item.too`, key: ItemKey, value: Item, ttl }),
      counters: Keyspace.counter({ name: `model.${this.run}.count`, key: Schema.String, ttl }),
    }
  }

  /** Opens a run: two writer caches with empty L1s over the test's tiers. */
  static async open(tiers: Tiers, ttlMillis: number): Promise<World> {
    const scope = await Effect.runPromise(Scope.make())
    const world = new World(tiers, scope, ttlMillis)
    for (const w of writers) {
      const cache = await Effect.runPromise(
        Scope.provide(
          Cache.make(
            { name: `writer-${w}` },
            probeStore(tiers.stores[w], world.probes[w]),
            probeBus(tiers.buses[w], world.probes[w], (event) => world.delivered(w, event)),
          ),
          scope,
        ),
      )
      cache.onEvent((event) => world.observe(`writer ${w}`, event))
      world.caches[w] = cache
    }
    return world
  }

  async close(): Promise<void> {
    await this.settle().catch(() => {})
    await Effect.runPromise(Scope.close(this.scope, Exit.void))
  }

  /** The tag of an `items` entry with this id. */
  tag(id: number): string {
    return `${this.run}:id:${id}`
  }

  private delivered(w: Writer, event: Bus.BusEvent) {
    if (!this.readAtDelivery) return
    const spaceOf = (id: string): Role | "counters" | undefined =>
      (["items", "others", "counters"] as const).find((role) => this.spaces[role].id === id)
    const space =
      event._tag === "InvalidateKeys" || event._tag === "ClearSpace"
        ? spaceOf(event.space)
        : event._tag === "InvalidateTag"
          ? "items"
          : undefined
    if (space === undefined) return
    const cache = this.caches[w]
    const reads: Effect.Effect<ReadonlyArray<Option.Option<unknown>>, unknown> = space === "counters"
      ? Effect.all(counterUniverse.map((key) => cache.get(this.spaces.counters, key)))
      : Effect.all(itemUniverse.map((key) => cache.get(this.spaces[space], key)))
    const message = `${event._tag}${"space" in event ? ` ${space}` : ""}`
    const start = Date.now()
    this.deliveryReads.push(
      this.exec(reads).then((found) => ({
        writer: w,
        message,
        space,
        found,
        span: { start, end: Date.now() },
      })),
    )
  }

  /** Stops reading at delivery and returns what was read since it started. */
  async takeDeliveryReads(): Promise<ReadonlyArray<DeliveryRead>> {
    this.readAtDelivery = false
    const reads = this.deliveryReads
    this.deliveryReads = []
    return Promise.all(reads)
  }

  private observe(who: string, event: CacheEvent) {
    if (event._tag === "EntryDropped") this.troubles.push(`${who} dropped ${event.key}: ${event.reason}`)
    if (event._tag === "StoreFailed")
      this.troubles.push(`${who}: store ${event.operation} failed: ${event.error.message}`)
  }

  /** Runs an effect of a cache (live clock). */
  exec<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    return Effect.runPromise(effect)
  }

  /**
   * Waits until neither writer has a store call in flight and every bus
   * message either published has reached the other (twice in a row, so a
   * call forked just before is seen). Fails after 5 s: a bus that does not
   * deliver is a finding, not something to wait out.
   */
  async settle(): Promise<void> {
    const { a, b } = this.probes
    const deadline = performance.now() + 5_000
    for (let quiet = 0; quiet < 2; ) {
      const now =
        a.inFlight === 0 && b.inFlight === 0 && a.received >= b.published && b.received >= a.published
      quiet = now ? quiet + 1 : 0
      if (performance.now() > deadline)
        throw new Error(`the writers did not settle within 5 s: ${JSON.stringify(this.probes)}`)
      await new Promise((resolve) => (now ? setImmediate(resolve) : setTimeout(resolve, 1)))
    }
  }

  /** Reads every key of the universe through `cache`, with `get` (one call per key) or `getMany` (one per keyspace). */
  readAll(cache: Cache.Service, how: "get" | "getMany"): Promise<Snapshot> {
    const { items, others, counters } = this.spaces
    const each = <V>(f: (key: any) => Effect.Effect<Option.Option<V>, unknown>, keys: ReadonlyArray<any>) =>
      Effect.all(keys.map(f), { concurrency: "unbounded" })
    return this.exec(
      Effect.all(
        how === "get"
          ? {
              items: each((k) => cache.get(items, k), itemUniverse),
              others: each((k) => cache.get(others, k), itemUniverse),
              counters: each((k) => cache.get(counters, k), counterUniverse),
            }
          : {
              items: cache.getMany(items, itemUniverse),
              others: cache.getMany(others, itemUniverse),
              counters: cache.getMany(counters, counterUniverse),
            },
        { concurrency: "unbounded" },
      ),
    )
  }

  /**
   * Reads the universe through a new cache with an empty L1 and no bus over
   * the readers' store, as a process started now would. The store first
   * forgets what it caches about this run's keyspaces (a new process has no
   * cached Redis generations).
   */
  async fresh(how: "get" | "getMany"): Promise<Snapshot> {
    const store = this.tiers.stores.reader
    const spaces = [this.spaces.items.id, this.spaces.others.id, this.spaces.counters.id]
    if (store.refresh !== undefined) await this.exec(store.refresh(spaces))
    const scope = await Effect.runPromise(Scope.make())
    try {
      const cache = await Effect.runPromise(
        Scope.provide(Cache.make({ name: "fresh-reader", circuitBreaker: false }, store), scope),
      )
      cache.onEvent((event) => this.observe(`fresh reader (${how})`, event))
      return await this.readAll(cache, how)
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}
