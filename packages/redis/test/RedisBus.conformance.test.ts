import { randomUUID } from "node:crypto"
import { RedisBus } from "@strata/redis"
import { subscriberOf } from "@strata/redis/testing"
import { busConformance } from "@strata/testkit"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { inject } from "vitest"

const url = inject("redisUrl")
let channel = ""

busConformance("redis (standalone)", {
  make: (nodes) =>
    Effect.suspend(() => {
      channel = `conformance:bus:${randomUUID()}`
      return Effect.all(Array.from({ length: nodes }, () => RedisBus.make({ url, channel })))
    }),
  cut: async (bus) => {
    const id = await subscriberOf(bus as RedisBus.Service).client("ID")
    const admin = new Redis(url)
    try {
      await admin.client("KILL", "ID", String(id))
    } finally {
      admin.disconnect()
    }
  },
  forge: async (bytes) => {
    const admin = new Redis(url)
    try {
      await admin.publish(channel, Buffer.from(bytes))
    } finally {
      admin.disconnect()
    }
  },
})

const nodes = inject("clusterNodes")

busConformance("redis (3-master Cluster, sharded pub/sub)", {
  make: (count) =>
    Effect.suspend(() => {
      channel = `conformance:bus:${randomUUID()}`
      return Effect.all(Array.from({ length: count }, () => RedisBus.make({ cluster: { nodes }, channel })))
    }),
  cut: async (bus) => {
    const subscriber = subscriberOf(bus as RedisBus.Service)
    const id = await subscriber.client("ID")
    const admin = new Redis(subscriber.options.port!, subscriber.options.host!)
    try {
      await admin.client("KILL", "ID", String(id))
    } finally {
      admin.disconnect()
    }
  },
  forge: async (bytes) => {
    const { Cluster } = await import("ioredis")
    const admin = new Cluster(nodes.map((n) => ({ host: n.host, port: n.port })))
    try {
      await admin.spublish(channel, Buffer.from(bytes))
    } finally {
      admin.disconnect()
    }
  },
})
