import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Closing from "../samples/operations/closing.ts"
import * as Deployments from "../samples/operations/deployments.ts"
import * as L1Sizing from "../samples/operations/l1-sizing.ts"
import * as Metrics from "../samples/operations/metrics.ts"
import * as OpenTelemetry from "../samples/operations/opentelemetry.ts"
import * as PromiseObservability from "../samples/operations/promise-observability.ts"
import * as SeveralProcesses from "../samples/operations/several-processes.ts"
import * as TlsAcl from "../samples/operations/tls-acl.ts"

/** An OTLP/HTTP collector on loopback: its traces URL and the names of the spans it received. */
const otlpCollector = async () => {
  const bodies: Array<string> = []
  const collector = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8")
    })
    request.on("end", () => {
      if (request.url === "/v1/traces") bodies.push(body)
      response.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve))
  const { port } = collector.address() as AddressInfo
  return {
    collector,
    url: `http://127.0.0.1:${port}/v1/traces`,
    spanNames: () => bodies.flatMap((body) => [...body.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1])),
  }
}

describe("operations samples, in process", () => {
  it("L1 sizing: the L1 stays within maxEntries and maxBytes", async () => {
    const { l1Entries, l1Bytes } = await L1Sizing.main()
    expect(l1Entries).toBeGreaterThan(0)
    expect(l1Entries).toBeLessThanOrEqual(1_000)
    expect(l1Bytes).toBeLessThanOrEqual(4 * 1024 * 1024)
  })

  it("metrics: the Prometheus text has the cache's hits and misses, labelled with its name", async () => {
    const text = await Metrics.main()
    expect(text).toMatch(/strata_cache_hits[^\n]*cache="quotes"[^\n]* 1\b/)
    expect(text).toMatch(/strata_cache_misses[^\n]*cache="quotes"[^\n]* [12]\b/)
    expect(text).toMatch(/strata_cache_loads[^\n]*cache="quotes"[^\n]* 1\b/)
  })

  it("OpenTelemetry: the loader's and the L2 calls' spans reach an OTLP/HTTP collector", async () => {
    const { collector, url, spanNames } = await otlpCollector()
    try {
      expect(await OpenTelemetry.main(url)).toEqual({
        id: 1001,
        status: "paid",
      })
      const names = spanNames()
      expect(names).toContain("GET /orders/1001")
      expect(names).toContain("strata.loader")
      expect(names.some((name) => name?.startsWith("strata.l2."))).toBe(true)
    } finally {
      collector.close()
    }
  })
})

// Servers start and join under the load of the whole suite: minutes, not Vitest's default 5 s.
const SERVERS = { timeout: 120_000 }

describe("operations samples, on real Redis servers", SERVERS, () => {
  let server: RedisHarness.RedisServer
  beforeAll(async () => {
    server = await RedisHarness.startRedis()
  }, SERVERS.timeout)
  afterAll(() => RedisHarness.stopAll([server]))

  it("standalone: a write and a read through the store and the bus", async () => {
    expect(await Deployments.run(Deployments.standalone(server.url))).toEqual({ userId: 42 })
  })

  it("closing: `await using` and close() release the cache; a call after close is CacheClosed", async () => {
    expect(await Closing.main(server.url)).toEqual({ owner: "alice", afterClose: "CacheClosed" })
  })

  it("several processes: a write on A reaches B's L1 through the bus", async () => {
    const result = await SeveralProcesses.main(server.url)
    expect(result.before).toBe(12)
    expect(result.after).toBe(11)
    expect(result.seenWithinMillis).toBeLessThan(500)
  })

  it("Sentinel: the cache finds the master through the Sentinels", async () => {
    const set = await RedisHarness.startSentinel("docs")
    try {
      expect(await Deployments.run(Deployments.sentinel(set.sentinelAddresses, set.name))).toEqual({
        userId: 42,
      })
    } finally {
      await set.stop()
    }
  })

  it("Cluster: the store routes by slot and the bus uses sharded pub/sub", async () => {
    const cluster = await RedisHarness.startCluster(3)
    try {
      expect(await Deployments.run(Deployments.cluster(cluster.startupNodes))).toEqual({ userId: 42 })
    } finally {
      await cluster.stop()
    }
  })

  it("TLS and ACL: the store and the bus connect over TLS as a user with only the documented grants", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-docs-tls-"))
    const file = (name: string) => join(dir, name)
    // cwd: the temp folder, so nothing openssl writes lands in the work tree.
    const openssl = (...args: Array<string>) => execFileSync("openssl", args, { stdio: "ignore", cwd: dir })
    try {
      openssl(
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Strata docs CA"],
        ...["-keyout", file("ca.key"), "-out", file("ca.crt")],
      )
      openssl(
        ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
        ...["-keyout", file("server.key"), "-out", file("server.csr")],
      )
      writeFileSync(file("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
      openssl(
        ...["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key")],
        ...["-CAcreateserial", "-days", "1", "-extfile", file("san.ext"), "-out", file("server.crt")],
      )
      const tlsPort = await RedisHarness.freePort()
      const secured = await RedisHarness.startRedis({
        args: [
          ...["--tls-port", String(tlsPort), "--tls-auth-clients", "no"],
          ...["--tls-cert-file", file("server.crt"), "--tls-key-file", file("server.key")],
          ...["--tls-ca-cert-file", file("ca.crt")],
        ],
      })
      try {
        // The grants the operations page lists, and nothing more.
        await secured.command(
          ...["ACL", "SETUSER", "shop", "on", ">s3cret", "resetkeys", "resetchannels"],
          ...[
            "~strata:*",
            "&strata:bus",
            "-@all",
            "+@read",
            "+@write",
            "+@scripting",
            "+@pubsub",
            "+ping",
            "+time",
          ],
        )
        const ca = readFileSync(file("ca.crt"), "utf8")
        expect(
          await TlsAcl.main({ host: "127.0.0.1", port: tlsPort, ca, username: "shop", password: "s3cret" }),
        ).toBe(true)
      } finally {
        await RedisHarness.stopAll([secured])
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("Promise facade: a pino-shaped logger gets the cache's log lines, and OTLP gets its spans", async () => {
    const { collector, url, spanNames } = await otlpCollector()
    const lines: Array<{ level: string; object: Record<string, unknown>; message: string | undefined }> = []
    const at = (level: string) => (object: Record<string, unknown>, message?: string) =>
      lines.push({ level, object, message })
    const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }
    try {
      expect(await PromiseObservability.main(url, logger)).toEqual({
        id: 1001,
        status: "paid",
      })
      const names = spanNames()
      expect(names).toContain("strata.loader")
      expect(names.some((name) => name?.startsWith("strata.l2."))).toBe(true)
      expect(lines.some((l) => l.level === "info" && l.object.event === "StaleServed")).toBe(true)
      expect(lines.some((l) => l.level === "warn" && /listener threw/.test(l.message ?? ""))).toBe(true)
    } finally {
      collector.close()
    }
  })
})
