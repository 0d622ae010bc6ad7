/**
 * Found from outside: a load that starts before `invalidateTag` or `clear`
 * and ends after it was stored, and every process (and every fresh reader)
 * read the value the invalidation should have removed. Kind: *a load that
 * began before an invalidation of its key (delete, tag, clear) never lands
 * after it*, in L1 or L2, whichever process invalidates. Real processes on
 * one Redis; the loader is held open until the invalidation is done.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { isolation, type Node, type NodeEnv, nodePool, until } from "./nodes.ts"

const pool = nodePool()
let nodes: Array<Node> = []
let env: NodeEnv
beforeAll(async () => {
  env = { store: inject("redisUrl"), ...isolation() }
  nodes = await pool.start(3, env)
}, 90_000)
afterAll(() => pool.stopAll())

const loaderStarted = async (node: Node, key: string) =>
  until(async () => (await node.status()).loaderStarts.some((s) => s.key === key))

const invalidations = {
  "invalidateTag of its tag": (node: Node) => node.invalidateTag("all"),
  "clear of its keyspace": (node: Node) => node.clear("tagged"),
  "delete of the key": (node: Node, key: string) => node.delete(key, "tagged"),
} as const

describe("a load that began before an invalidation never lands after it (black box, 3 processes + a fresh one)", () => {
  for (const [name, invalidate] of Object.entries(invalidations)) {
    for (const by of ["another process", "the loading process"] as const) {
      it(`${name}, by ${by}, while the loader runs: nobody reads the loaded value afterwards`, async () => {
        const [a, b, c] = nodes as [Node, Node, Node]
        const key = `k-${name.split(" ")[0]}-${by.split(" ")[1]}`
        const loading = a.getOrSet(key, "old", { ks: "tagged", gate: true })
        expect(await loaderStarted(a, key)).toBe(true)
        expect((await invalidate(by === "another process" ? b : a, key)).ok).toBe(true)
        await a.release(key)
        const loaded = await loading
        // The caller that asked gets what its loader returned; the tiers keep out of it.
        expect(loaded.ok && loaded.result.value).toBe("old")
        const fresh = (await pool.start(1, env))[0]!
        const reads = await Promise.all([a, b, c, fresh].map((n) => n.get(key, "tagged")))
        expect(reads.map((r) => (r.ok ? r.result : `!${r.tag}`))).toEqual([null, null, null, null])
        await fresh.exit()
      })
    }
  }
})
