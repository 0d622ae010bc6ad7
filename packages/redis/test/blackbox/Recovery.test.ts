/**
 * Issue 9, item 8 (second half): with default options, after a Redis crash
 * (killed, restarted empty on the same port) or a partition (every node's
 * links cut, then healed), once Redis accepts writes again and A writes v2,
 * every node reads v2 within 500 ms, measured from the moment Redis accepted
 * writes again (the restart answered PING / the proxy passed traffic again).
 * Times from A's write are printed too.
 *
 * Three processes: A writes, B and C read every 10 ms throughout. All their
 * links go through one fault proxy (which only passes bytes, except when the
 * partition cuts it), so both tests share the processes.
 */
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { convergedAt, isolation, type Node, nodePool, type Read, sleep, until, wall } from "./nodes.ts"

const BOUND = 500
const DOWN_MILLIS = 2_000

let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy
const pool = nodePool()
let nodes: Array<Node> = []

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  proxy = await FaultProxy.startFaultProxy(server.port)
  const { prefix, channel } = isolation()
  nodes = await pool.start(3, { store: `redis://127.0.0.1:${proxy.port}`, prefix, channel })
}, 90_000)

afterAll(async () => {
  await pool.stopAll()
  await proxy?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

/** A writes v1, and B and C hold it in L1. */
const warm = async (nodes: ReadonlyArray<Node>, key: string, v1: string) => {
  expect((await nodes[0]!.set(key, v1)).ok).toBe(true)
  for (const n of nodes.slice(1)) {
    expect(
      await until(async () => {
        const r = await n.get(key)
        return r.ok && r.result === v1
      }),
    ).toBe(true)
  }
}

/** A retries its write until Redis takes it (for at most 15 s). */
const writeUntilAccepted = async (a: Node, key: string, value: string) => {
  const deadline = wall() + 15_000
  for (;;) {
    const write = await a.set(key, value)
    if (write.ok) return write
    if (wall() > deadline)
      throw new Error(`A's write was still failing 15 s after Redis was back (${write.tag})`)
    await sleep(10)
  }
}

const report = (
  what: string,
  backAt: number,
  write: { startedAt: number; doneAt: number },
  reads: Record<string, ReadonlyArray<[number, Read]>>,
  v2: string,
) => {
  const lines: Array<string> = []
  const late: Array<string> = []
  lines.push(`A's write of v2 resolved ${Math.round(write.doneAt - backAt)} ms after Redis was back`)
  if (write.doneAt - backAt > BOUND) late.push(`A's write resolved ${Math.round(write.doneAt - backAt)} ms`)
  for (const [name, r] of Object.entries(reads)) {
    const at = convergedAt(r, v2)
    if (at === undefined) {
      lines.push(`${name} never settled on v2 (last read ${JSON.stringify(r.at(-1)?.[1])})`)
      late.push(`${name} never settled on v2`)
      continue
    }
    const fromBack = Math.round(at - backAt)
    lines.push(
      `${name} reads v2 from ${fromBack} ms after Redis was back (${Math.round(at - write.doneAt)} ms after A's write)`,
    )
    if (fromBack > BOUND) {
      const seen = [...new Set(r.filter(([t]) => t > backAt && t < at).map(([, v]) => v))]
      late.push(`${name} settled on v2 ${fromBack} ms after (read before: ${JSON.stringify(seen)})`)
    }
  }
  console.log(`${what}: ${lines.join("; ")}`)
  return late
}

describe("recovery bounds (black box, default options, 3 processes)", () => {
  it("Redis killed and restarted empty: once it accepts writes and A writes v2, every node reads v2 within 500 ms of the restart", async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    const key = "user:42"
    await warm(nodes, key, "v1")

    const loops = [b.readLoop(key, DOWN_MILLIS + 3_500, 10), c.readLoop(key, DOWN_MILLIS + 3_500, 10)]
    await sleep(100)
    await server.kill()
    await sleep(DOWN_MILLIS)
    await server.restart()
    const backAt = wall()
    const write = await writeUntilAccepted(a, key, "v2")
    const aReads = await a.readLoop(key, 1_500, 10)
    const [bReads, cReads] = await Promise.all(loops)
    const late = report("Redis restarted", backAt, write, { A: aReads, B: bReads!, C: cReads! }, "v2")
    expect(late, `every node reads v2 within ${BOUND} ms of the restart`).toEqual([])
  }, 60_000)

  it("partition (every node's links cut for 2 s, then healed): once A writes v2, every node reads v2 within 500 ms of the heal", async () => {
    const [a, b, c] = nodes as [Node, Node, Node]
    const key = "user:43"
    await warm(nodes, key, "v1")

    const loops = [b.readLoop(key, DOWN_MILLIS + 3_500, 10), c.readLoop(key, DOWN_MILLIS + 3_500, 10)]
    await sleep(100)
    proxy.cut({ refuse: true })
    await sleep(DOWN_MILLIS)
    proxy.pass()
    const backAt = wall()
    const write = await writeUntilAccepted(a, key, "v2")
    const aReads = await a.readLoop(key, 1_500, 10)
    const [bReads, cReads] = await Promise.all(loops)
    const late = report("partition healed", backAt, write, { A: aReads, B: bReads!, C: cReads! }, "v2")
    expect(late, `every node reads v2 within ${BOUND} ms of the heal`).toEqual([])
  }, 60_000)
})
