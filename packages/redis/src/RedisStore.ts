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
 *   fails with `Timeout`. Every write is a script that carries a deadline in
 *   the server's time (the moment its caller stops waiting) and is refused
 *   past it, so a write that timed out can have landed only before its
 *   caller saw the timeout, never after a write acknowledged later (a stalled
 *   link that heals, a paused server that resumes; ADR 0008). Strata never
 *   retries a write blindly.
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
import { Argument, type InvalidArgument, Store, type StoreError } from "@strata/core"
import { Duration, Effect, Layer, Schedule } from "effect"
import type { Cluster } from "ioredis"
import {
  type Client,
  type ConnectionOptions,
  checkConnectionOptions,
  createClient,
  onlyKnownOptions,
  runScript,
  runScriptBuffer,
  socketTimeoutOf,
  toStoreError,
} from "./internal/connection.ts"
import {
  KIND_TOMBSTONE,
  KIND_VALUE,
  newVersion,
  stamped,
  storedValue,
  versionedValue,
} from "./internal/header.ts"
import * as Liveness from "./internal/liveness.ts"
import { storeClients } from "./internal/registry.ts"
import * as ServerClock from "./internal/serverClock.ts"
import { slotOf } from "./internal/slot.ts"
import { connect, probe, startupFailure } from "./internal/startup.ts"
import * as Scripts from "./Scripts.ts"

/** The options of {@link make} and {@link layer}. */
export interface Options extends ConnectionOptions {
  /** Prepended to every key; no braces. Default `"strata:"`. */
  readonly prefix?: string | undefined
  /** How long a delete's tombstone keeps the key's version, in ms. Default 10,000; keep it above your slowest loader. */
  readonly tombstoneMillis?: number | undefined
  /** How often cached keyspace generations and the server clock are re-read, in ms. Default 1,000. */
  readonly generationRefreshMillis?: number | undefined
}

/** What the store saw of its connection, for health checks and tests. */
export interface Diagnostics {
  /** `error` events the client emitted (failed connection attempts, socket errors). */
  readonly connectionErrors: number
  /** Times a live connection was lost (each is followed by reconnect attempts). */
  readonly disconnects: number
  /** Connections replaced because they stayed silent with calls in flight (a dead link). */
  readonly silentReplaced: number
  readonly lastError: string | undefined
  /** ioredis status: `ready`, `reconnecting`, `end`, ... */
  readonly status: string
}

/** The Redis store: the `Store` operations plus what only Redis has. */
export interface Service extends Store.Service {
  readonly diagnostics: () => Diagnostics
  /** Re-reads every cached keyspace generation now (after a missed bus message, say). */
  readonly refreshGenerations: Effect.Effect<void, StoreError>
}

const isCluster = (client: Client): client is Cluster =>
  "nodes" in client && typeof client.nodes === "function"

/** Checks the numeric options before anything connects; throws `InvalidArgument`. */
const checkOptions = (options: Options) => {
  onlyKnownOptions(options, ["prefix", "tombstoneMillis", "generationRefreshMillis"])
  checkConnectionOptions(options)
  Argument.optionalMillis("tombstoneMillis", options.tombstoneMillis, 10_000)
  Argument.optionalMillis("generationRefreshMillis", options.generationRefreshMillis, 1_000)
}

/**
 * Connects to Redis and builds the store. Fails with `InvalidArgument` for a
 * bad numeric option, and with `StoreUnavailable` (reason `startup`) when
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
  yield* Effect.try({ try: () => checkOptions(options), catch: (error) => error as InvalidArgument })
  const prefix = options.prefix ?? "strata:"
  if (typeof prefix !== "string" || /[{}]/.test(prefix)) {
    return yield* startupFailure(
      "startup",
      `prefix ${JSON.stringify(prefix)} must be a string without braces: they would become a Cluster hash tag`,
    )
  }
  const commandTimeout = options.commandTimeoutMillis ?? 500
  const connectTimeout = options.connectTimeoutMillis ?? 5_000
  const tombstoneMillis = options.tombstoneMillis ?? 10_000
  const client = yield* Effect.try({
    try: () => createClient(options),
    catch: (cause) => startupFailure("startup", (cause as Error).message, cause),
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

  const liveness = yield* Liveness.make(client, socketTimeoutOf(options))
  const fail = (operation: string) => toStoreError(operation, commandTimeout)
  const call = <A>(operation: string, f: () => Promise<A>): Effect.Effect<A, StoreError> =>
    Effect.tryPromise({ try: () => liveness.track(f), catch: fail(operation) })

  // Write deadlines: a write refused past its deadline can never land after a newer one (ADR 0008).
  const serverClock = ServerClock.make(client)
  const syncClock = call("time", serverClock.sync)
  const deadline = () => serverClock.deadline(commandTimeout)
  /** A write script's result; Redis refusing it as late becomes a `Timeout` (see `toStoreError`). */
  const notLate = (result: number) => {
    if (result === Scripts.LATE) throw new Error("STRATA_LATE the deadline passed before Redis ran the write")
    return result
  }

  const generations = new Map<string, number>()
  const metaKey = (space: string) => `${prefix}${space}:meta:gen`
  const learn = (space: string, generation: number) => {
    if ((generations.get(space) ?? -1) < generation) generations.set(space, generation)
  }
  const readGeneration = (space: string) =>
    client.get(metaKey(space)).then((value) => {
      learn(space, Number(value ?? 0))
      return generations.get(space)!
    })
  const generationOf = (space: string): Effect.Effect<number, StoreError> => {
    const known = generations.get(space)
    return known !== undefined ? Effect.succeed(known) : call("get generation", () => readGeneration(space))
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
  /**
   * One store operation on one key as a single effect: the generation lookup,
   * the command and the reading of its reply happen in one promise, because
   * every effect step costs the hot read path measurable time (W5/W6).
   */
  /** Runs `f` on the full key of `key` in `space` (its generation read first if unknown), tracked for liveness. */
  const onKey = <A>(space: string, key: string, f: (fullKey: string, generation: number) => Promise<A>) =>
    liveness.track(() => {
      const generation = generations.get(space)
      return generation !== undefined
        ? f(keyOf(space, generation, key), generation)
        : readGeneration(space).then((g) => f(keyOf(space, g, key), g))
    })

  const keyed = <A>(
    operation: string,
    space: string,
    key: string,
    f: (fullKey: string, generation: number) => Promise<A>,
  ) => Effect.tryPromise({ try: () => onKey(space, key, f), catch: fail(operation) })

  /** `keyed` as a Promise rejecting with the same typed errors, for the engine's Promise reads. */
  const keyedPromise = <A>(
    operation: string,
    space: string,
    key: string,
    f: (fullKey: string, generation: number) => Promise<A>,
  ) =>
    onKey(space, key, f).catch((error: unknown) => {
      throw fail(operation)(error)
    })

  /** Re-reads the generations of `spaces` from Redis. */
  const refreshSpaces = (spaces: ReadonlyArray<string>) =>
    spaces.length === 0
      ? Effect.void
      : call("refresh generations", () =>
          Promise.all(
            spaces.map((space) =>
              runScript(client, Scripts.restoreGeneration, metaKey(space), generations.get(space) ?? 0),
            ),
          ),
        ).pipe(
          Effect.tap((values) =>
            Effect.sync(() => {
              for (let i = 0; i < spaces.length; i++) learn(spaces[i]!, Number(values[i] ?? 0))
            }),
          ),
          Effect.asVoid,
        )
  const refreshGenerations = Effect.suspend(() => refreshSpaces([...generations.keys()]))

  yield* Effect.all([refreshGenerations, syncClock], { discard: true }).pipe(
    Effect.ignore,
    Effect.repeat(Schedule.spaced(Duration.millis(options.generationRefreshMillis ?? 1_000))),
    Effect.forkScoped,
  )

  /** MGET of `keys` (one per hash slot on a Cluster, all in flight at once), each reply read by `parse`. */
  const mget = <A>(space: string, keys: ReadonlyArray<string>, parse: (bytes: Buffer | null) => A) =>
    Effect.flatMap(generationOf(space), (generation): Effect.Effect<ReadonlyArray<A>, StoreError> => {
      if (keys.length === 0) return Effect.succeed([])
      const fullKeys = keys.map((key) => keyOf(space, generation, key))
      if (!isCluster(client)) {
        return call("getMany", () => client.mgetBuffer(...fullKeys)).pipe(
          Effect.map((found) => found.map(parse)),
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
        const out = new Array<A>(keys.length)
        await Promise.all(
          [...bySlot.values()].map(async (indexes) => {
            const found = await client.mgetBuffer(...indexes.map((i) => fullKeys[i]!))
            indexes.forEach((index, j) => {
              out[index] = parse(found[j] ?? null)
            })
          }),
        )
        return out
      })
    })

  const writeValue = (k: string, value: Uint8Array, ttlMillis: number) =>
    runScript(client, Scripts.write, k, stamped(KIND_VALUE, newVersion(), value), ttlMillis, deadline()).then(
      notLate,
    )

  const service: Service = {
    name: "redis",
    capabilities: { local: false },
    get: (space, key) => keyed("get", space, key, (k) => client.getBuffer(k).then(storedValue)),
    getMany: (space, keys) => mget(space, keys, storedValue),
    set: (space, key, value, ttlMillis) => keyed("set", space, key, (k) => writeValue(k, value, ttlMillis)),
    setPromise: (space, key, value, ttlMillis) =>
      keyedPromise("set", space, key, (k) => writeValue(k, value, ttlMillis)).then(() => undefined),
    setMany: (space, writes) =>
      Effect.flatMap(generationOf(space), (generation) =>
        call("setMany", () =>
          Promise.all(writes.map((w) => writeValue(keyOf(space, generation, w.key), w.value, w.ttlMillis))),
        ),
      ),
    delete: (space, key) =>
      keyed("delete", space, key, (k) =>
        runScript(
          client,
          Scripts.write,
          k,
          stamped(KIND_TOMBSTONE, newVersion()),
          tombstoneMillis,
          deadline(),
        ).then(notLate),
      ),
    increment: (space, key, by, ttlMillis) =>
      keyed("increment", space, key, (k) =>
        runScript(client, Scripts.increment, k, String(by), ttlMillis, newVersion(), deadline()).then(Number),
      ),
    clear: (space) =>
      call("clear", () =>
        runScript(client, Scripts.clear, metaKey(space), deadline(), generations.get(space) ?? 0),
      ).pipe(Effect.map((generation) => learn(space, notLate(generation)))),
    versioned: {
      get: (space, key) => keyed("get", space, key, (k) => client.getBuffer(k).then(versionedValue)),
      getPromise: (space, key) =>
        keyedPromise("get", space, key, (k) => client.getBuffer(k).then(versionedValue)),
      // The version travels in each value's header, so the MGET of getMany reads it for free.
      getMany: (space, keys) => mget(space, keys, versionedValue),
      fill: (space, key, value, ttlMillis, expectedVersion) =>
        keyed("fill", space, key, (k) =>
          runScript(
            client,
            Scripts.fill,
            k,
            stamped(KIND_VALUE, newVersion(), value),
            ttlMillis,
            String(expectedVersion),
            deadline(),
          ).then((result) => notLate(result) === 1),
        ),
    },
    leases: {
      acquire: (space, key, ttlMillis, expectedVersion) =>
        keyed("acquire lease", space, key, async (dataKey, generation): Promise<Store.LeaseResult> => {
          const token = randomUUID()
          const leaseKey = leaseKeyOf(space, generation, key)
          // Checked atomically with the data's version where the two keys meet in one slot (not for odd braces).
          const conditional =
            expectedVersion !== undefined && (!isCluster(client) || slotOf(dataKey) === slotOf(leaseKey))
          const taken = notLate(
            conditional
              ? await runScript(
                  client,
                  Scripts.acquireLeaseIfVersion,
                  [dataKey, leaseKey],
                  token,
                  ttlMillis,
                  String(expectedVersion),
                  deadline(),
                )
              : await runScript(client, Scripts.acquireLease, leaseKey, token, ttlMillis, deadline()),
          )
          return taken === 1
            ? { _tag: "Acquired", token }
            : taken === 0
              ? { _tag: "Held" }
              : { _tag: "Changed" }
        }),
      readOrAcquire: (space, key, ttlMillis) =>
        keyed("read or lease", space, key, async (dataKey, generation): Promise<Store.ReadOrLease> => {
          const leaseKey = leaseKeyOf(space, generation, key)
          if (isCluster(client) && slotOf(dataKey) !== slotOf(leaseKey)) {
            // Odd braces split the two keys over slots: read, then take the lease on the version read.
            const read = versionedValue(await client.getBuffer(dataKey))
            if (read.value !== undefined) return { read, lease: undefined }
            const token = randomUUID()
            const taken = await runScript(
              client,
              Scripts.acquireLease,
              leaseKey,
              token,
              ttlMillis,
              deadline(),
            )
            return { read, lease: notLate(taken) === 1 ? { _tag: "Acquired", token } : { _tag: "Held" } }
          }
          const token = randomUUID()
          const reply = await runScriptBuffer(
            client,
            Scripts.readOrLease,
            [dataKey, leaseKey],
            token,
            ttlMillis,
            deadline(),
          )
          if (reply === Scripts.LATE) notLate(Scripts.LATE)
          const [bytes, version, taken] = reply as [Buffer | null, Buffer | undefined, number | undefined]
          if (bytes !== null) return { read: versionedValue(bytes), lease: undefined }
          return {
            read: { value: undefined, version: Number(version!.toString()) },
            lease: taken === 1 ? { _tag: "Acquired", token } : { _tag: "Held" },
          }
        }),
      fillAndRelease: (space, key, value, ttlMillis, expectedVersion, token) =>
        keyed("fill", space, key, async (dataKey, generation) => {
          const leaseKey = leaseKeyOf(space, generation, key)
          const stampedValue = stamped(KIND_VALUE, newVersion(), value)
          if (isCluster(client) && slotOf(dataKey) !== slotOf(leaseKey)) {
            // Odd braces split the two keys over slots: two calls, and the waiters learn by polling.
            const filled = notLate(
              await runScript(
                client,
                Scripts.fill,
                dataKey,
                stampedValue,
                ttlMillis,
                String(expectedVersion),
                deadline(),
              ),
            )
            await runScript(client, Scripts.releaseLease, leaseKey, token)
            return { written: filled === 1, waited: true }
          }
          const reply = await runScript(
            client,
            Scripts.fillAndRelease,
            [dataKey, leaseKey],
            stampedValue,
            ttlMillis,
            String(expectedVersion),
            token,
            deadline(),
          )
          if (reply === Scripts.LATE) notLate(Scripts.LATE)
          const [written, waited] = reply as [number, number]
          return { written: written === 1, waited: waited === 1 }
        }),
      release: (space, key, token) =>
        keyed("release lease", space, key, (_, generation) =>
          runScript(client, Scripts.releaseLease, leaseKeyOf(space, generation, key), token),
        ).pipe(Effect.map((released) => released === 1)),
      renew: (space, key, token, ttlMillis) =>
        keyed("renew lease", space, key, (_, generation) =>
          runScript(client, Scripts.renewLease, leaseKeyOf(space, generation, key), token, ttlMillis),
        ).pipe(Effect.map((renewed) => renewed === 1)),
    },
    // Forgets at once (the next call of each space reads its generation first), then re-reads in the background.
    refresh: (spaces) =>
      Effect.suspend(() => {
        const forgotten = spaces === "all" ? [...generations.keys()] : spaces
        for (const space of forgotten) generations.delete(space)
        return refreshSpaces(forgotten)
      }),
    diagnostics: () => ({
      connectionErrors,
      disconnects,
      silentReplaced: liveness.replaced(),
      lastError,
      status: client.status,
    }),
    refreshGenerations,
  }
  storeClients.set(service, client)

  // The clock is read first: no write can run before it is known.
  // The probe's keyspace is gone: forget its generation, or the refresh would write its key back for good.
  generations.delete(yield* probe(service, client, prefix, syncClock))
  return service
})

/**
 * A layer providing the Redis store as the `Store` service; the connection
 * closes with the layer.
 *
 * @example
 * ```ts
 * const Tiered = Cache.layer({ l2: RedisStore.layer({ url: process.env.REDIS_URL }) })
 * ```
 */
export const layer = (options: Options): Layer.Layer<Store.Store, StoreError | InvalidArgument> =>
  Layer.effect(Store.Store, make(options))
