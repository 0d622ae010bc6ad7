/**
 * The conformance suite every `Bus` driver must pass: the memory bus,
 * Redis, or your own. Each driver's test file calls {@link busConformance}
 * once. The suite checks what the cache relies on: delivery to every other
 * node, no self-delivery, order per sender, unreadable messages dropped and
 * reported (never thrown), a gap when a node's subscription is cut and
 * another once delivery is back, and nothing delivered after unsubscribing.
 *
 * @since 0.1.0
 */
import type { Bus } from "@strata/core"
import { Effect, Exit, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"

/** How to build the buses under test. */
export interface BusUnderTest<E> {
  /**
   * Builds `nodes` buses sharing one channel (a fresh channel per call, so
   * tests never see each other's messages), in the given scope.
   */
  readonly make: (nodes: number) => Effect.Effect<ReadonlyArray<Bus.Service>, E, Scope.Scope>
  /** Cuts the subscription of node `index` as a lost connection would; delivery must come back on its own. */
  readonly cut: (bus: Bus.Service, index: number) => Promise<void>
  /** Puts raw bytes on the channel the last `make` used, as a foreign or hostile writer would. */
  readonly forge: (bytes: Uint8Array) => Promise<void>
  /** How long delivery may take, in ms; default 2,000. */
  readonly deliveryMillis?: number | undefined
}

/** Polls `check` every 5 ms until it holds or `millis` pass. */
const eventually = async (check: () => boolean, millis: number): Promise<boolean> => {
  const deadline = Date.now() + millis
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return true
}

const keys = (space: string, key: string): Bus.Message => ({ _tag: "InvalidateKeys", space, keys: [key] })

/**
 * Registers the conformance suite for one bus driver.
 *
 * @example
 * ```ts
 * // test/MemoryBus.test.ts
 * const hub = MemoryBus.hub()
 * busConformance("memory", { make: (n) => Effect.succeed(...), cut: ..., forge: ... })
 * ```
 */
export const busConformance = <E>(name: string, options: BusUnderTest<E>): void => {
  const within = options.deliveryMillis ?? 2_000
  describe(`Bus conformance: ${name}`, () => {
    let scope: Scope.Closeable | undefined
    afterEach(async () => {
      if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
      scope = undefined
    })

    /** Builds the buses and subscribes a recorder to each. */
    const start = async (nodes: number) => {
      scope = Effect.runSync(Scope.make())
      const buses = await Effect.runPromise(Scope.provide(options.make(nodes), scope))
      const seen = buses.map(() => [] as Array<Bus.BusEvent>)
      for (let i = 0; i < buses.length; i++) {
        await Effect.runPromise(
          Scope.provide(
            buses[i]!.subscribe((event) => seen[i]!.push(event)),
            scope,
          ),
        )
      }
      const messages = (i: number) => seen[i]!.filter((e) => e._tag !== "Gap" && e._tag !== "Dropped")
      return { buses, seen, messages }
    }

    it("a message reaches every other node, and never the node that published it", async () => {
      const { buses, messages } = await start(3)
      await Effect.runPromise(buses[0]!.publish([keys("s", "a")]))
      expect(await eventually(() => messages(1).length === 1 && messages(2).length === 1, within)).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(messages(0)).toEqual([])
      expect(messages(1)).toEqual([keys("s", "a")])
    })

    it("every message type round-trips exactly, unicode and long keys included", async () => {
      const { buses, messages } = await start(2)
      const sent: Array<Bus.Message> = [
        { _tag: "InvalidateKeys", space: "s:v1", keys: ["a", "caf\u00e9", "\u{1f600}", "x".repeat(2_000)] },
        { _tag: "InvalidateTag", tag: "user:42", version: 2 ** 40 },
        { _tag: "ClearSpace", space: "s:v1" },
        { _tag: "Filled", space: "s:v1", keys: ["k"] },
        { _tag: "Reset", reason: "test" },
      ]
      await Effect.runPromise(buses[0]!.publish(sent))
      expect(await eventually(() => messages(1).length === sent.length, within)).toBe(true)
      expect(messages(1)).toEqual(sent)
    })

    it("messages from one sender arrive in the order they were published (also across ticks)", async () => {
      const { buses, messages } = await start(2)
      for (let i = 0; i < 200; i++) {
        await Effect.runPromise(buses[0]!.publish([keys("s", String(i))]))
        if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      }
      expect(await eventually(() => messages(1).length === 200, within)).toBe(true)
      expect(messages(1).map((m) => (m as { readonly keys: ReadonlyArray<string> }).keys[0])).toEqual(
        Array.from({ length: 200 }, (_, i) => String(i)),
      )
    })

    it("unreadable messages are dropped and reported as Dropped, never thrown, and delivery goes on", async () => {
      const { buses, seen, messages } = await start(2)
      for (const bytes of [new Uint8Array([0xc1]), new TextEncoder().encode("{}"), new Uint8Array(0)]) {
        await options.forge(bytes)
      }
      await Effect.runPromise(buses[0]!.publish([keys("s", "after")]))
      expect(await eventually(() => messages(1).length === 1, within)).toBe(true)
      expect(seen[1]!.filter((e) => e._tag === "Dropped").length).toBeGreaterThan(0)
    })

    it("a cut subscription is a gap (delivery down), then a gap with connected: true once delivery is back", async () => {
      const { buses, seen, messages } = await start(2)
      await options.cut(buses[1]!, 1)
      const gaps = () => seen[1]!.filter((e): e is Bus.Gap => e._tag === "Gap")
      expect(await eventually(() => gaps().some((g) => g.connected), within * 3)).toBe(true)
      expect(gaps()[0]!.connected, "delivery is reported down first").toBe(false)
      expect(
        seen[0]!.filter((e) => e._tag === "Gap"),
        "other nodes see no gap",
      ).toEqual([])
      await Effect.runPromise(buses[0]!.publish([keys("s", "after the gap")]))
      expect(await eventually(() => messages(1).length === 1, within)).toBe(true)
    })

    it("a listener that throws does not stop delivery to the others", async () => {
      const { buses, messages } = await start(2)
      await Effect.runPromise(
        Scope.provide(
          buses[1]!.subscribe(() => {
            throw new Error("listener bug")
          }),
          scope!,
        ),
      )
      await Effect.runPromise(buses[0]!.publish([keys("s", "a"), keys("s", "b")]))
      expect(await eventually(() => messages(1).length === 2, within)).toBe(true)
    })

    it("after its subscription's scope closes a listener receives nothing more", async () => {
      const { buses } = await start(2)
      const late: Array<Bus.BusEvent> = []
      const inner = Effect.runSync(Scope.make())
      await Effect.runPromise(
        Scope.provide(
          buses[1]!.subscribe((event) => late.push(event)),
          inner,
        ),
      )
      await Effect.runPromise(buses[0]!.publish([keys("s", "one")]))
      expect(await eventually(() => late.length === 1, within)).toBe(true)
      await Effect.runPromise(Scope.close(inner, Exit.void))
      await Effect.runPromise(buses[0]!.publish([keys("s", "two")]))
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(late.length).toBe(1)
    })

    it("reports when it last heard from its subscription, within its silence bound while healthy", async () => {
      const { buses } = await start(1)
      const bus = buses[0]!
      if (bus.lastHeard === undefined) {
        expect(bus.silenceBoundMillis).toBeUndefined()
        return
      }
      expect(bus.silenceBoundMillis).toBeGreaterThan(0)
      await new Promise((resolve) => setTimeout(resolve, bus.silenceBoundMillis! * 2))
      expect(performance.now() - bus.lastHeard()).toBeLessThanOrEqual(bus.silenceBoundMillis!)
    })
  })
}
