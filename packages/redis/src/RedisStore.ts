/**
 * The Redis tier: a `Store` on ioredis for a standalone server, a Sentinel
 * set or a Cluster.
 *
 * - **Binary-safe**: values are read with `getBuffer`/`mgetBuffer`, never as
 *   strings.
 * - **No late writes**: the offline queue and the re-sending of unfulfilled
 *   commands are off, so a write issued during a partition fails at once
 *   instead of landing after the partition heals over a newer value.
 * - **Timeouts are typed**: a command slower than `commandTimeoutMillis`
 *   fails with `Timeout`. For a write the outcome is unknown (Redis may still
 *   apply it); Strata never retries it blindly.
 * - **Versioned writes**: every value carries a version token, new on every
 *   write; `delete` leaves a tombstone with a new token; `fill` is a
 *   compare-and-set on the token it read, so a load that read a key before a
 *   write or delete cannot land after it.
 * - **O(1) clear**: a keyspace's keys live under a generation number;
 *   `clear` increments it, and the old generation's keys become unreachable
 *   and expire on their own (no `KEYS`, no `SCAN`).
 * - **Keys**: `<prefix><space>:<generation>:<key>`, with Strata's own prefix
 *   (ioredis `keyPrefix` does not apply to scripts or patterns). A key's
 *   Redis Cluster hash tag (`{...}`, from `Keyspace.make({ hashTag })`) is the
 *   first brace pair in it, since prefixes and spaces hold no braces.
 *
 * Generations are cached per process and re-read every
 * `generationRefreshMillis` (default 1 s): a `clear` by another process is
 * seen within that bound, or at once when the cache's bus delivers it.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { Store, type StoreError, StoreUnavailable } from "@strata/core"
import { Duration, Effect, Layer, Schedule } from "effect"
import type { Cluster } from "ioredis"
import {
  type Client,
  type ConnectionOptions,
  createClient,
  isAccessError,
  runScript,
  toStoreError,
} from "./internal/connection.ts"
import { slotOf } from "./internal/slot.ts"
import * as Scripts from "./Scripts.ts"

/** The options of {@link make} and {@link layer}. */
export interface Options extends ConnectionOptions {
  /** Prepended to every key; no braces. Default `"strata:"`. */
  readonly prefix?: string | undefined
  /** How long a delete's tombstone keeps the key's version. Default 10 s; keep it above your slowest loader. */
  readonly tombstoneMillis?: number | undefined
  /** How often cached keyspace generations are re-read. Default 1 s. */
  readonly generationRefreshMillis?: number | undefined
}

/** What the store saw of its connection, for health checks and tests. */
export interface Diagnostics {
  /** `error` events the client emitted (failed connection attempts, socket errors). */
  readonly connectionErrors: number
  /** Times a live connection was lost (each is followed by reconnect attempts). */
  readonly disconnects: number
  readonly lastError: string | undefined
  /** ioredis status: `ready`, `reconnecting`, `end`, ... */
  readonly status: string
}

/** The Redis store: the `Store` operations plus what only Redis has. */
export interface Service extends Store.Service {
  readonly diagnostics: () => Diagnostics
  /** Re-reads every cached keyspace generation now (after a missed bus message, say). */
  readonly refreshGenerations: Effect.Effect<void, StoreError>
  /** The underlying client, for tests and advanced use; do not enable its offline queue. */
  readonly client: Client
}

interface Stored {
  readonly kind: number
  readonly version: number
  readonly offset: number
}

const KIND_VALUE = 0x76 // v
const KIND_TOMBSTONE = 0x74 // t
const KIND_COUNTER = 0x63 // c

/**
 * A value with a fresh version header. Versions are tokens, not counters: a
 * fill compares the version it read for equality, so a write only needs a
 * version no earlier write of the key used. A random 52-bit token gives that
 * without a script, so `set` and `delete` are plain `SET`s (scripts cost Redis
 * several times a `SET`); only the compare-and-set fill runs a script.
 */
const stamped = (kind: number, payload?: Uint8Array): Buffer => {
  const header = `${String.fromCharCode(kind)}${1 + Math.floor(Math.random() * 2 ** 52)}:`
  if (payload === undefined) return Buffer.from(header, "latin1")
  const out = Buffer.allocUnsafe(header.length + payload.length)
  out.write(header, 0, "latin1")
  out.set(payload, header.length)
  return out
}

/** Parses the `<kind><version>:` header; `undefined` for bytes Strata did not write. */
const header = (bytes: Uint8Array): Stored | undefined => {
  const kind = bytes[0]
  if (kind !== KIND_VALUE && kind !== KIND_TOMBSTONE && kind !== KIND_COUNTER) return undefined
  let version = 0
  let i = 1
  for (; i < bytes.length && i < 20; i++) {
    const c = bytes[i]!
    if (c === 0x3a) break
    if (c < 0x30 || c > 0x39) return undefined
    version = version * 10 + (c - 0x30)
  }
  if (i === 1 || bytes[i] !== 0x3a) return undefined
  return { kind, version, offset: i + 1 }
}

/** The value inside stored bytes. Headerless bytes are returned whole, so the cache reports and drops them. */
const storedValue = (bytes: Buffer | null): Uint8Array | undefined => {
  if (bytes === null) return undefined
  const h = header(bytes)
  if (h === undefined) return bytes
  return h.kind === KIND_TOMBSTONE ? undefined : bytes.subarray(h.offset)
}

/** The value and version inside stored bytes (a tombstone has a version and no value). */
const versionedValue = (bytes: Buffer | null): Store.VersionedValue => {
  if (bytes === null) return { value: undefined, version: 0 }
  const h = header(bytes)
  if (h === undefined) return { value: bytes, version: 0 }
  return { value: h.kind === KIND_TOMBSTONE ? undefined : bytes.subarray(h.offset), version: h.version }
}

const isCluster = (client: Client): client is Cluster =>
  "nodes" in client && typeof client.nodes === "function"

/**
 * Connects to Redis and builds the store. Fails with `StoreUnavailable` when
 * the server cannot be reached within `connectTimeoutMillis`, when the
 * credentials are wrong, or when the ACL user lacks a command or key pattern
 * the store needs (checked at startup, so it never surfaces as a hang later).
 * The connection closes with the scope.
 *
 * @example
 * ```ts
 * const store = yield* RedisStore.make({ url: "redis://127.0.0.1:6379", prefix: "shop:" })
 * ```
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const prefix = options.prefix ?? "strata:"
  if (/[{}]/.test(prefix)) {
    return yield* new StoreUnavailable({
      store: "redis",
      operation: "startup",
      message: `prefix ${JSON.stringify(prefix)} must not contain braces: they would become a Cluster hash tag`,
    })
  }
  const commandTimeout = options.commandTimeoutMillis ?? 500
  const connectTimeout = options.connectTimeoutMillis ?? 5_000
  const tombstoneMillis = options.tombstoneMillis ?? 10_000
  const client = yield* Effect.try({
    try: () => createClient(options),
    catch: (cause) =>
      new StoreUnavailable({
        store: "redis",
        operation: "startup",
        message: (cause as Error).message,
        cause,
      }),
  })

  let connectionErrors = 0
  let disconnects = 0
  let lastError: string | undefined
  // Every error event is recorded here; none reaches the process as unhandled.
  client.on("error", (error: Error) => {
    connectionErrors++
    lastError = error.message
  })
  client.on("close", () => {
    if (client.status !== "end") disconnects++
  })

  yield* Effect.acquireRelease(connect(client, connectTimeout), () =>
    Effect.promise(async () => {
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    }),
  )

  const fail = (operation: string) => toStoreError(operation, commandTimeout)
  const call = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
    Effect.tryPromise({ try: f, catch: fail(operation) })

  const generations = new Map<string, number>()
  const metaKey = (space: string) => `${prefix}${space}:meta:gen`
  const learn = (space: string, generation: number) => {
    if ((generations.get(space) ?? -1) < generation) generations.set(space, generation)
  }
  const generationOf = (space: string): Effect.Effect<number, StoreError> => {
    const known = generations.get(space)
    if (known !== undefined) return Effect.succeed(known)
    return call("get generation", () => client.get(metaKey(space))).pipe(
      Effect.map((value) => {
        learn(space, Number(value ?? 0))
        return generations.get(space)!
      }),
    )
  }
  const keyOf = (space: string, generation: number, key: string) => `${prefix}${space}:${generation}:${key}`
  /**
   * A key's lease lives in the data key's Cluster slot, so the conditional
   * lease script can read both: the key's own hash tag if it has braces, else
   * the whole data key as the tag.
   */
  const leaseKeyOf = (space: string, generation: number, key: string) =>
    /[{}]/.test(key)
      ? `${prefix}${space}:lease:${generation}:${key}`
      : `${prefix}${space}:lease:${generation}:{${keyOf(space, generation, key)}}`
  /** The generation of a space: cached (synchronously), or read once. */
  const generationNow = (space: string): number | Promise<number> => {
    const known = generations.get(space)
    if (known !== undefined) return known
    return client.get(metaKey(space)).then((value) => {
      learn(space, Number(value ?? 0))
      return generations.get(space)!
    })
  }
  /**
   * One store operation on one key as a single effect: the generation lookup,
   * the command and the reading of its reply happen in one promise, because
   * every effect step costs the hot read path measurable time (W5/W6).
   */
  const keyed = <A>(
    operation: string,
    space: string,
    key: string,
    f: (fullKey: string, generation: number) => Promise<A>,
  ) =>
    Effect.tryPromise({
      try: () => {
        const generation = generationNow(space)
        return typeof generation === "number"
          ? f(keyOf(space, generation, key), generation)
          : generation.then((g) => f(keyOf(space, g, key), g))
      },
      catch: fail(operation),
    })

  /** Re-reads the generations of `spaces` from Redis. */
  const refreshSpaces = (spaces: ReadonlyArray<string>) =>
    spaces.length === 0
      ? Effect.void
      : call("refresh generations", () =>
          Promise.all(spaces.map((space) => client.get(metaKey(space)))),
        ).pipe(
          Effect.tap((values) =>
            Effect.sync(() => {
              for (let i = 0; i < spaces.length; i++) learn(spaces[i]!, Number(values[i] ?? 0))
            }),
          ),
          Effect.asVoid,
        )
  const refreshGenerations = Effect.suspend(() => refreshSpaces([...generations.keys()]))

  yield* refreshGenerations.pipe(
    Effect.catch(() => Effect.void),
    Effect.repeat(Schedule.spaced(Duration.millis(options.generationRefreshMillis ?? 1_000))),
    Effect.forkScoped,
  )

  const getMany = (space: string, keys: ReadonlyArray<string>) =>
    Effect.flatMap(generationOf(space), (generation) => {
      if (keys.length === 0) return Effect.succeed([])
      const fullKeys = keys.map((key) => keyOf(space, generation, key))
      if (!isCluster(client)) {
        return call("getMany", () => client.mgetBuffer(...fullKeys)).pipe(
          Effect.map((found) => found.map(storedValue)),
        )
      }
      // A Cluster refuses cross-slot MGET: one MGET per slot, all in flight at once.
      const bySlot = new Map<number, Array<number>>()
      fullKeys.forEach((key, i) => {
        const slot = slotOf(key)
        const group = bySlot.get(slot)
        if (group === undefined) bySlot.set(slot, [i])
        else group.push(i)
      })
      return call("getMany", async () => {
        const out = new Array<Uint8Array | undefined>(keys.length)
        await Promise.all(
          [...bySlot.values()].map(async (indexes) => {
            const found = await client.mgetBuffer(...indexes.map((i) => fullKeys[i]!))
            indexes.forEach((index, j) => {
              out[index] = storedValue(found[j] ?? null)
            })
          }),
        )
        return out
      })
    })

  const service: Service = {
    name: "redis",
    capabilities: { local: false, leases: true, compareAndSet: true, scripts: true },
    get: (space, key) => keyed("get", space, key, (k) => client.getBuffer(k).then(storedValue)),
    getMany,
    set: (space, key, value, ttlMillis) =>
      keyed("set", space, key, (k) => client.set(k, stamped(KIND_VALUE, value), "PX", ttlMillis)),
    setMany: (space, writes) =>
      Effect.flatMap(generationOf(space), (generation) =>
        call("setMany", () =>
          Promise.all(
            writes.map((w) =>
              client.set(keyOf(space, generation, w.key), stamped(KIND_VALUE, w.value), "PX", w.ttlMillis),
            ),
          ),
        ),
      ),
    delete: (space, key) =>
      keyed("delete", space, key, (k) => client.set(k, stamped(KIND_TOMBSTONE), "PX", tombstoneMillis)),
    increment: (space, key, by, ttlMillis) =>
      keyed("increment", space, key, (k) => runScript(client, Scripts.increment, k, by, ttlMillis)),
    clear: (space) =>
      call("clear", () => client.incr(metaKey(space))).pipe(
        Effect.map((generation) => learn(space, generation)),
      ),
    versioned: {
      get: (space, key) => keyed("get", space, key, (k) => client.getBuffer(k).then(versionedValue)),
      fill: (space, key, value, ttlMillis, expectedVersion) =>
        keyed("fill", space, key, (k) =>
          runScript(client, Scripts.fill, k, value, ttlMillis, expectedVersion).then(
            (written) => written === 1,
          ),
        ),
    },
    leases: {
      acquire: (space, key, ttlMillis, expectedVersion) =>
        keyed("acquire lease", space, key, async (dataKey, generation): Promise<Store.LeaseResult> => {
          const token = randomUUID()
          const leaseKey = leaseKeyOf(space, generation, key)
          // Checked atomically with the data's version where the two keys meet in one slot (not for odd braces).
          if (expectedVersion !== undefined && (!isCluster(client) || slotOf(dataKey) === slotOf(leaseKey))) {
            const taken = await runScript(
              client,
              Scripts.acquireLeaseIfVersion,
              [dataKey, leaseKey],
              token,
              ttlMillis,
              expectedVersion,
            )
            return taken === 1
              ? { _tag: "Acquired", token }
              : taken === 0
                ? { _tag: "Held" }
                : { _tag: "Changed" }
          }
          const reply = await client.set(leaseKey, token, "PX", ttlMillis, "NX")
          return reply === "OK" ? { _tag: "Acquired", token } : { _tag: "Held" }
        }),
      release: (space, key, token) =>
        keyed("release lease", space, key, (_, generation) =>
          runScript(client, Scripts.releaseLease, leaseKeyOf(space, generation, key), token),
        ).pipe(Effect.map((released) => released === 1)),
    },
    refresh: (spaces) => (spaces === "all" ? refreshGenerations : refreshSpaces(spaces)),
    diagnostics: () => ({ connectionErrors, disconnects, lastError, status: client.status }),
    refreshGenerations,
    client,
  }

  yield* probe(service, prefix)
  return service
})

/** Connects, waiting for `ready`; fails at once on bad credentials, and after `timeoutMillis` otherwise. */
const connect = (client: Client, timeoutMillis: number) =>
  Effect.tryPromise({
    try: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`could not connect to Redis within ${timeoutMillis} ms (${client.status})`)),
          timeoutMillis,
        )
        const onError = (error: Error) => {
          if (!isAccessError(error)) return
          clearTimeout(timer)
          reject(error)
        }
        client.on("error", onError)
        client.connect().then(
          () => {
            clearTimeout(timer)
            client.off("error", onError)
            resolve()
          },
          (error: unknown) => {
            clearTimeout(timer)
            client.off("error", onError)
            reject(error)
          },
        )
      }),
    catch: (cause) => {
      client.disconnect()
      const message = cause instanceof Error ? cause.message : String(cause)
      return new StoreUnavailable({
        store: "redis",
        operation: "connect",
        message: isAccessError(cause) ? `Redis refused the credentials: ${message}` : message,
        cause,
      })
    },
  })

/**
 * Runs each kind of command the store uses once, on a throwaway key under
 * the prefix, so a missing ACL permission is a clear startup error naming
 * what to grant instead of a failure on the first request.
 */
const probe = (store: Service, prefix: string) => {
  const space = `_probe.${randomUUID()}`
  const bytes = new Uint8Array([1])
  return Effect.gen(function* () {
    yield* store.set(space, "k", bytes, 1_000)
    yield* store.getMany(space, ["k", "j"])
    yield* store.versioned!.get(space, "k")
    yield* store.versioned!.fill(space, "k", bytes, 1_000, 0)
    yield* store.increment(space, "n", 1, 1_000)
    yield* store.delete(space, "k")
    const lease = yield* store.leases!.acquire(space, "k", 1_000, 0)
    if (lease._tag === "Acquired") yield* store.leases!.release(space, "k", lease.token)
    yield* store.clear(space)
    yield* Effect.tryPromise({
      try: () => store.client.del(`${prefix}${space}:meta:gen`),
      catch: toStoreError("probe", 0),
    })
  }).pipe(
    Effect.mapError((error) =>
      error._tag === "StoreUnavailable" && /NOPERM|no permissions/i.test(error.message)
        ? new StoreUnavailable({
            store: "redis",
            operation: "startup",
            message: `The Redis user lacks a permission Strata needs (${error.message}). Grant it, for example: ACL SETUSER <user> on ~${prefix}* +@read +@write +@scripting +ping`,
            cause: error,
          })
        : error,
    ),
  )
}

/**
 * A layer providing the Redis store as the `Store` service; the connection
 * closes with the layer.
 *
 * @example
 * ```ts
 * const Tiered = Cache.layer({ l2: RedisStore.layer({ url: process.env.REDIS_URL }) })
 * ```
 */
export const layer = (options: Options): Layer.Layer<Store.Store, StoreError> =>
  Layer.effect(Store.Store, make(options))
