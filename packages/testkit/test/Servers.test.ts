import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FaultProxy, RedisHarness } from "../src/servers.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

const client = (port: number) => {
  const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: () => 50 })
  redis.on("error", () => {})
  return redis
}

describe("RedisHarness", () => {
  it("starts a server on a free loopback port with no persistence, and answers control commands", async () => {
    expect(server.port).toBeGreaterThan(0)
    expect(await server.command("PING")).toContain("PONG")
    expect(await server.command("CONFIG", "GET", "save")).toContain("save")
    expect(await server.command("CONFIG", "GET", "appendonly")).toContain("no")
    expect(await server.command("CONFIG", "GET", "bind")).toContain("127.0.0.1")
  })

  it("clientKill drops every connection of a type, and the client reconnects", async () => {
    const redis = client(server.port)
    await redis.set("harness:k", "v")
    let closes = 0
    redis.on("close", () => closes++)
    await server.clientKill("normal")
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(closes).toBeGreaterThan(0)
    expect(await redis.get("harness:k")).toBe("v")
    redis.disconnect()
  })

  it("stop, restart on the same port, pause and resume", async () => {
    const other = await RedisHarness.startRedis()
    try {
      await other.stop()
      expect(other.running).toBe(false)
      await other.restart()
      expect(other.running).toBe(true)
      other.pause()
      await expect(other.command("PING")).rejects.toThrow()
      other.resume()
      expect(await other.command("PING")).toContain("PONG")
    } finally {
      await RedisHarness.stopAll([other])
    }
  })

  it("says how to install redis-server when it is not on PATH", () => {
    const path = process.env.PATH
    process.env.PATH = "/nonexistent"
    try {
      expect(() => RedisHarness.requireRedisServer()).toThrow(/apt-get install -y redis-server/)
    } finally {
      process.env.PATH = path
    }
  })
})

describe("FaultProxy", () => {
  it("passes, delays, black-holes (holding bytes) and cuts", async () => {
    const proxy = await FaultProxy.startFaultProxy(server.port)
    const redis = client(proxy.port)
    try {
      expect(await redis.ping()).toBe("PONG")
      proxy.delay(150)
      const started = Date.now()
      expect(await redis.ping()).toBe("PONG")
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      proxy.blackHole()
      const held = redis.ping()
      const outcome = await Promise.race([
        held,
        new Promise((resolve) => setTimeout(() => resolve("nothing yet"), 200)),
      ])
      expect(outcome).toBe("nothing yet")
      proxy.pass()
      expect(await held).toBe("PONG")
      proxy.cut()
      expect(proxy.connections()).toBe(0)
      expect(await redis.ping()).toBe("PONG")
    } finally {
      redis.disconnect()
      await proxy.close()
    }
  })
})
