/**
 * A simulation of several cache nodes sharing one store and one bus, where a
 * `fc.scheduler` decides the order of everything that can race: each store
 * call reaching the store and its reply coming back, each bus delivery, each
 * loader's read of the source of truth and its return. Property tests run
 * random workloads through it and check the engine's consistency invariants
 * against a "database" of versioned values.
 *
 * @since 0.1.0
 */
import { type Bus, Cache, Entry, Keyspace, MemoryBus, MemoryStore, type Store } from "@strata/core"
import { withoutFillGuards } from "@strata/core/testing"
import { Clock, Effect, Exit, type Layer, ManagedRuntime, Option, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"
import type fc from "fast-check"
import { scheduledStore } from "./internal/scheduledStore.ts"

/** What a loader returns: the key, the version it read from the database, and when. */
export const Item = Schema.Struct({ key: Schema.String, version: Schema.Int, loadedAt: Schema.Number })
export type Item = typeof Item.Type

/** One operation of a workload. */
export type Operation =
  | { readonly _tag: "Read"; readonly node: number; readonly key: string }
  | { readonly _tag: "Get"; readonly node: number; readonly key: string }
  | {
      readonly _tag: "Write"
      readonly node: number
      readonly key: string
      /** Scheduler points the writer passes before committing, so reads can get ahead of it. */
      readonly delay?: number | undefined
    }
  | { readonly _tag: "Advance"; readonly millis: number }

/** How a simulation is set up: its nodes, its shared tier and the faults it injects. */
export interface SimOptions {
  readonly nodes: number
  /** Turn the engine's stale-fill guards off (to show the invariants need them). */
  readonly unsafe?: boolean | undefined
  /** Deliver every bus message twice. */
  readonly duplicateDeliveries?: boolean | undefined
  /** Decides, per store delete, whether it fails (to check nothing is published for it). */
  readonly failDeletes?: Iterator<boolean> | undefined
  /** Decides, per loader call, whether it fails. */
  readonly failLoads?: Iterator<boolean> | undefined
  readonly ttlMillis?: number | undefined
  readonly staleForMillis?: number | undefined
  /** Leases on (default) or off. */
  readonly leases?: boolean | undefined
  /**
   * The shared tier. Default: a new memory store per simulation. A real
   * store (Redis) is shared by simulations: each names its keyspace after a
   * new id, so they never meet. Its calls really run between the
   * scheduler's points; the next step waits until they have returned.
   */
  readonly store?: Store.Service | undefined
  /**
   * Lease lifetime, in ms: of the simulation's clock for waiters, and of the
   * store's clock for the lease itself. Default 200; a real store keeps real
   * time, so give it one no run outlasts.
   */
  readonly leaseTtlMillis?: number | undefined
}

/** How one read ended. */
export type Outcome =
  | { readonly _tag: "Value"; readonly item: Item }
  | { readonly _tag: "None" }
  | { readonly _tag: "Error"; readonly error: unknown }

/** What happened to one read, for the invariants. */
export interface Observation {
  readonly operation: Operation & { readonly _tag: "Read" | "Get" }
  /** The version of the key whose invalidation the node had applied when the read started. */
  readonly appliedAtStart: number
  readonly startedAt: number
  readonly endedAt: number
  readonly outcome: Outcome
  /** StaleServed events for this key on this node while the read ran. */
  readonly staleEvents: number
}

class InjectedFailure extends Schema.TaggedError<InjectedFailure>()("InjectedFailure", {}) {}

/**
 * One simulation: `nodes` caches over one store and one bus, a database of
 * versions as the source of truth, and what every node saw and did, for the
 * invariants. `start` it, `runAll` a workload, check, then `stop` it.
 */
export class Sim {
  /** The source of truth: the current version of each key. */
  readonly db = new Map<string, number>()
  readonly observations: Array<Observation> = []
  /** Per node and key: the highest database version whose invalidation the node has applied. */
  readonly applied: Array<Map<string, number>>
  /** Per node and key: versions this node wrote whose invalidation is not published yet. */
  private readonly pending: Array<Map<string, Array<number>>>
  /** Per node and key: deletes the store applied, and invalidations the node published. */
  readonly deletesOk: Array<Map<string, number>>
  readonly published: Array<Map<string, number>>
  readonly staleEvents: Array<Map<string, number>>
  readonly loaderCalls = new Map<string, number>()
  readonly hub: MemoryBus.Hub
  readonly caches: Array<Cache.Service> = []
  readonly Items: Keyspace.Keyspace<string, Item>
  /** Per key: the highest version whose write (its store delete) has returned. */
  readonly returnedWrites = new Map<string, number>()
  /** What fresh readers found wrong in the store: stale fills, undecodable entries, failed reads. */
  readonly storeViolations: Array<string> = []
  private shared!: Store.Service
  private reader!: Cache.Service
  /** Store calls released by the scheduler that have not returned yet. */
  private readonly calls = { inFlight: 0 }
  private runtime!: ManagedRuntime.ManagedRuntime<never, never>
  private scope!: Scope.Closeable
  /** The version each published message claims, by message object. */
  private readonly claims = new WeakMap<object, ReadonlyArray<number>>()

  constructor(
    readonly s: fc.Scheduler,
    readonly options: SimOptions,
  ) {
    const n = options.nodes
    const perNode = <A>() => Array.from({ length: n }, () => new Map<string, A>())
    this.applied = perNode()
    this.pending = perNode()
    this.deletesOk = perNode()
    this.published = perNode()
    this.staleEvents = perNode()
    this.Items = Keyspace.make({
      name: `sim.${Math.random().toString(36).slice(2, 10)}.item`,
      key: Schema.String,
      value: Item,
      ttl: options.ttlMillis ?? 3_600_000,
      staleFor: options.staleForMillis ?? 0,
    })
    this.hub = MemoryBus.hub((deliver, event, to) => {
      const node = Number(to)
      const apply = () => {
        deliver()
        if (event._tag === "InvalidateKeys") {
          const claimed = this.claims.get(event) ?? []
          for (let i = 0; i < event.keys.length; i++) this.raiseApplied(node, event.keys[i]!, claimed[i] ?? 0)
        }
      }
      const copies = this.options.duplicateDeliveries === true ? 2 : 1
      for (let c = 0; c < copies; c++) {
        void this.s.schedule(Promise.resolve(), `deliver ${event._tag} to ${to}`).then(apply)
      }
    })
  }

  raiseApplied(node: number, key: string, version: number) {
    if (version > (this.applied[node]!.get(key) ?? 0)) this.applied[node]!.set(key, version)
  }

  private bump(map: Map<string, number>, key: string) {
    map.set(key, (map.get(key) ?? 0) + 1)
  }

  /** A point the scheduler releases when it chooses. */
  point(label: string) {
    return Effect.promise(() => this.s.schedule(Promise.resolve(), label))
  }

  /**
   * Waits until every store call the scheduler released has returned (a
   * real store answers over the network), so the scheduler, not the
   * network, decides what happens next. Call it after each scheduler step.
   */
  async settle(): Promise<void> {
    // Two quiet turns: a fiber woken by the last step resumes on the next turn and may issue a call.
    for (let quiet = 0; quiet < 2; ) {
      await new Promise((resolve) => setImmediate(resolve))
      quiet = this.calls.inFlight === 0 ? quiet + 1 : 0
    }
  }

  private run<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    return this.runtime.runPromise(effect)
  }

  async start() {
    this.runtime = ManagedRuntime.make(TestClock.layer() as Layer.Layer<never>)
    this.scope = await this.run(Scope.make())
    this.shared =
      this.options.store ??
      (await this.run(Scope.provide(MemoryStore.make({ maxEntries: 100_000 }), this.scope)))
    // A fresh reader: no L1 (so nothing it read before counts), no bus, past the scheduler.
    this.reader = await this.run(
      Scope.provide(
        Cache.make(
          {
            name: "fresh-reader",
            l1: false,
            lease: false,
            circuitBreaker: false,
            metricsIntervalMillis: 3_600_000,
          },
          this.shared,
        ),
        this.scope,
      ),
    )
    this.reader.onEvent((event) => {
      if (event._tag === "EntryDropped")
        this.storeViolations.push(`a fresh reader found ${event.key} undecodable: ${event.reason}`)
    })
    for (let node = 0; node < this.options.nodes; node++) {
      const nodeBus = this.hub.node(String(node))
      const bus: Bus.Service = {
        ...nodeBus,
        publish: (messages) =>
          Effect.suspend(() => {
            for (const message of messages) {
              if (message._tag !== "InvalidateKeys") continue
              // The oldest unpublished write of this node is a safe lower bound for what the message announces.
              this.claims.set(
                message,
                message.keys.map((key) => Math.min(...(this.pending[node]!.get(key) ?? [0]))),
              )
              for (const key of message.keys) this.bump(this.published[node]!, key)
            }
            return nodeBus.publish(messages)
          }),
      }
      const cache = await this.run(
        Scope.provide(
          Cache.make(
            (this.options.unsafe === true ? withoutFillGuards : (o: Cache.Options) => o)({
              name: `node${node}`,
              metricsIntervalMillis: 3_600_000,
              circuitBreaker: false,
              lease: { ttl: this.options.leaseTtlMillis ?? 200, pollInterval: 20 },
            }),
            scheduledStore(this.shared, {
              point: (label) => this.point(label),
              leases: this.options.leases !== false,
              failDeletes: this.options.failDeletes,
              calls: this.calls,
              deleted: (key) => this.bump(this.deletesOk[node]!, key),
            }),
            bus,
          ),
          this.scope,
        ),
      )
      cache.onEvent((event) => {
        if (event._tag === "StaleServed") this.bump(this.staleEvents[node]!, event.key)
      })
      this.caches.push(cache)
    }
  }

  async stop() {
    await this.run(Scope.close(this.scope, Exit.void))
    await this.runtime.dispose()
  }

  private loader(node: number, key: string) {
    const sim = this
    return Effect.gen(function* () {
      sim.bump(sim.loaderCalls, `${node}:${key}`)
      yield* sim.point(`load ${key} reads db`)
      const version = sim.db.get(key) ?? 0
      const loadedAt = yield* Clock.currentTimeMillis
      yield* sim.point(`load ${key} returns v${version}`)
      if (sim.options.failLoads?.next().value === true) return yield* new InjectedFailure()
      return { key, version, loadedAt }
    })
  }

  private now() {
    return this.run(Clock.currentTimeMillis)
  }

  private storeKey(key: string) {
    return this.Items.storeKey(key)
  }

  /** Runs one operation to completion (the scheduler interleaves it with the others). */
  async perform(operation: Operation): Promise<void> {
    if (operation._tag === "Advance") {
      await this.run(TestClock.adjust(operation.millis))
      return
    }
    const { node, key } = operation
    const cache = this.caches[node]!
    const storeKey = this.storeKey(key)
    if (operation._tag === "Write") {
      for (let i = 0; i < (operation.delay ?? 0); i++) await this.run(this.point(`write ${key} waits`))
      await this.run(this.point(`write ${key} commits`))
      const version = (this.db.get(key) ?? 0) + 1
      this.db.set(key, version)
      const queue = this.pending[node]!.get(storeKey) ?? []
      queue.push(version)
      this.pending[node]!.set(storeKey, queue)
      const exit = await this.runtime.runPromiseExit(cache.delete(this.Items, key))
      queue.splice(queue.indexOf(version), 1)
      if (Exit.isSuccess(exit)) {
        this.raiseApplied(node, storeKey, version)
        if (version > (this.returnedWrites.get(key) ?? 0)) this.returnedWrites.set(key, version)
      }
      return
    }
    const appliedAtStart = this.applied[node]!.get(storeKey) ?? 0
    const staleBefore = this.staleEvents[node]!.get(storeKey) ?? 0
    const startedAt = await this.now()
    const effect: Effect.Effect<Option.Option<Item>, unknown> = operation._tag === "Read"
      ? Effect.map(
          cache.getOrSet(this.Items, key, () => this.loader(node, key)),
          Option.some,
        )
      : cache.get(this.Items, key)
    const exit = await this.runtime.runPromiseExit(effect)
    const outcome: Outcome = Exit.isSuccess(exit)
      ? Option.isSome(exit.value)
        ? { _tag: "Value", item: exit.value.value }
        : { _tag: "None" }
      : { _tag: "Error", error: exit.cause }
    this.observations.push({
      operation,
      appliedAtStart,
      startedAt,
      endedAt: await this.now(),
      outcome,
      staleEvents: (this.staleEvents[node]!.get(storeKey) ?? 0) - staleBefore,
    })
  }

  /**
   * Runs a workload. `Advance` operations are barriers: the operations
   * between two of them start at once and the scheduler orders their steps;
   * then time moves by the advance and the next group starts. Within a
   * group, time moves (by `tick` ms) only when nothing else can run, to wake
   * lease waiters. Fails if a group does not settle.
   */
  async runAll(operations: ReadonlyArray<Operation>, tick = 25): Promise<void> {
    let group: Array<Operation> = []
    for (const operation of [...operations, { _tag: "Advance", millis: 0 } as const]) {
      if (operation._tag !== "Advance") {
        group.push(operation)
        continue
      }
      await this.runGroup(group, tick)
      group = []
      if (operation.millis > 0) await this.run(TestClock.adjust(operation.millis))
    }
  }

  private async runGroup(operations: ReadonlyArray<Operation>, tick: number): Promise<void> {
    let settled = false
    let failure: unknown
    const all = Promise.all(operations.map((op) => this.perform(op))).then(
      () => {
        settled = true
      },
      (error) => {
        settled = true
        failure = error
      },
    )
    for (let round = 0; !settled; round++) {
      if (round > 5_000) throw new Error("the workload did not settle: something waits for ever")
      await this.s.waitAll()
      await new Promise((resolve) => setImmediate(resolve))
      await this.settle()
      if (!settled && this.s.count() === 0) await this.run(TestClock.adjust(tick))
    }
    await all
    if (failure !== undefined) throw failure
    // Let deliveries published at the very end arrive too.
    while (this.s.count() > 0) {
      await this.s.waitAll()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** The fresh value a node's L1 holds for a key, without touching L2. */
  l1(node: number, key: string): Item | undefined {
    return this.caches[node]!.peekUnsafe(this.Items, key)
  }

  /**
   * Reads `key` through a new-process view of the store (a cache with no L1
   * and no bus, past the scheduler) and records a violation when what it
   * finds is older than a write that has returned: a fill that read before
   * the write's delete landed after it. An undecodable entry is recorded by
   * the reader's event listener. Returns the value found.
   */
  async freshRead(key: string): Promise<Item | undefined> {
    const exit = await this.runtime.runPromiseExit(this.reader.get(this.Items, key))
    if (Exit.isFailure(exit)) {
      this.storeViolations.push(`a fresh reader failed to read ${key}: ${exit.cause}`)
      return undefined
    }
    const found = Option.getOrUndefined(exit.value)
    const floor = this.returnedWrites.get(key) ?? 0
    if (found !== undefined && found.version < floor)
      this.storeViolations.push(
        `the store holds ${key}@v${found.version} after the write of v${floor} returned`,
      )
    return found
  }

  /** The value L2 holds for a key (decoded), read past the scheduler. */
  async l2(key: string): Promise<Item | undefined> {
    const bytes = await this.run(this.shared.get(this.Items.id, this.storeKey(key)))
    if (bytes === undefined) return undefined
    const entry = Entry.decode(this.Items, bytes)
    return entry._tag === "Success" ? entry.success.value : undefined
  }

  /** Whether any lease is still held (each key's lease can be taken now). */
  async leaseHeld(key: string): Promise<boolean> {
    const leases = this.shared.leases!
    const lease = await this.run(leases.acquire(this.Items.id, this.storeKey(key), 1))
    if (lease._tag !== "Acquired") return true
    await this.run(leases.release(this.Items.id, this.storeKey(key), lease.token))
    return false
  }
}
