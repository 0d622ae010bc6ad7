/**
 * Real `redis-server` processes for tests: a single server, a 3-master
 * Cluster or a Sentinel set, each on free loopback ports in a temporary
 * directory, with no persistence. Tests stop, kill, restart, pause and cut
 * them to inject faults. Every process started here is killed when the test
 * process exits, also on failure; test files call {@link useRedis} (or stop
 * what they started in `afterAll`) so a file never leaves servers behind.
 *
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Thrown when `redis-server` cannot be found or does not start. */
export class RedisHarnessError extends Error {
  override readonly name = "RedisHarnessError"
}

const HOST = "127.0.0.1"
const live = new Set<ChildProcess>()
let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL")
  })
}

/** Fails with a clear message when `redis-server` is not on PATH. */
export const requireRedisServer = (): string => {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim()
  } catch {
    throw new RedisHarnessError(
      "redis-server is not on PATH. Strata's tests start their own Redis processes: install Redis 7 (Debian/Ubuntu: `apt-get install -y redis-server`, macOS: `brew install redis`) and run the tests again.",
    )
  }
}

/** A free TCP port on loopback (and, for Cluster, with port + 10000 free too). */
export const freePort = async (clusterBus = false): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, HOST, () => {
        const address = server.address()
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
    if (!clusterBus) return port
    if (port + 10_000 < 65_536 && (await isFree(port + 10_000))) return port
  }
  throw new RedisHarnessError("no free loopback port found")
}

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })

/** Sends one command in RESP and returns the raw reply text (enough for control commands). */
export const command = (
  port: number,
  args: ReadonlyArray<string>,
  options: { password?: string; timeoutMillis?: number } = {},
) =>
  new Promise<string>((resolve, reject) => {
    const socket = new Socket()
    const encode = (parts: ReadonlyArray<string>) =>
      `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`
    let reply = Buffer.alloc(0)
    const expected = options.password !== undefined ? 2 : 1
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new RedisHarnessError(`no reply from ${HOST}:${port} to ${args[0]}`))
    }, options.timeoutMillis ?? 2_000)
    socket.once("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.connect(port, HOST, () => {
      if (options.password !== undefined) socket.write(encode(["AUTH", options.password]))
      socket.write(encode(args))
    })
    socket.on("data", (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk])
      const ends = replyEnds(reply, expected)
      if (ends !== undefined) {
        clearTimeout(timer)
        socket.destroy()
        resolve(reply.subarray(ends.length > 1 ? ends[ends.length - 2]! : 0).toString("utf8"))
      }
    })
  })

/** The end offsets of the first `count` complete RESP replies in `data`, or undefined if incomplete. */
const replyEnds = (data: Buffer, count: number): Array<number> | undefined => {
  let at = 0
  const readOne = (): boolean => {
    const end = data.indexOf("\r\n", at)
    if (end < 0) return false
    const type = String.fromCharCode(data[at]!)
    const header = data.subarray(at + 1, end).toString("utf8")
    at = end + 2
    if (type === "$") {
      const length = Number(header)
      if (length < 0) return true
      if (data.length < at + length + 2) return false
      at += length + 2
      return true
    }
    if (type === "*") {
      const items = Number(header)
      for (let i = 0; i < items; i++) if (!readOne()) return false
    }
    return true
  }
  const ends: Array<number> = []
  for (let i = 0; i < count; i++) {
    if (!readOne()) return undefined
    ends.push(at)
  }
  return ends
}

/** One `redis-server` process. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly dir: string
  /** Sends a control command (RESP) and returns the raw reply. */
  command(...args: Array<string>): Promise<string>
  /** SIGTERM and wait. */
  stop(): Promise<void>
  /** SIGKILL and wait. */
  kill(): Promise<void>
  /** Starts again on the same port (after `stop` or `kill`). */
  restart(): Promise<void>
  /** SIGSTOP: the server accepts nothing and answers nothing until `resume`. */
  pause(): void
  /** SIGCONT. */
  resume(): void
  /** `CLIENT KILL TYPE <type>`: drops every client connection of that type (normal, pubsub, replica). */
  clientKill(type: "normal" | "pubsub" | "replica"): Promise<void>
  /** Whether the process is running. */
  readonly running: boolean
}

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, such as `["--cluster-enabled", "yes"]`. */
  readonly args?: ReadonlyArray<string> | undefined
  /** A port to use (default: a free one). */
  readonly port?: number | undefined
  /** Lines written to a config file passed first (for Sentinel, which rewrites its config). */
  readonly config?: ReadonlyArray<string> | undefined
  /** Start as a Sentinel. */
  readonly sentinel?: boolean | undefined
  /** The `default` user's password, if any (for control commands). */
  readonly password?: string | undefined
  /** Reserve port + 10000 for the Cluster bus. */
  readonly clusterBus?: boolean | undefined
}

const waitUntilAnswering = async (
  port: number,
  password: string | undefined,
  child: ChildProcess,
  log: () => string,
) => {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new RedisHarnessError(`redis-server on port ${port} exited: ${log()}`)
    try {
      const reply = await command(port, ["PING"], {
        timeoutMillis: 500,
        ...(password === undefined ? {} : { password }),
      })
      if (reply.startsWith("+PONG")) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new RedisHarnessError(`redis-server on port ${port} did not answer within 10 s: ${log()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Starts `redis-server` on a free loopback port in a temporary directory,
 * with no persistence and debug commands enabled for local clients, and
 * waits until it answers PING.
 *
 * @example
 * ```ts
 * const redis = await startRedis()
 * const client = new Redis(redis.port, "127.0.0.1")
 * await redis.pause() // inject a fault
 * ```
 */
export const startRedis = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  requireRedisServer()
  installExitHook()
  const port = options.port ?? (await freePort(options.clusterBus ?? false))
  const dir = mkdtempSync(join(tmpdir(), "strata-redis-"))
  const configFile = join(dir, "redis.conf")
  writeFileSync(configFile, `${(options.config ?? []).join("\n")}\n`)
  const args = [
    configFile,
    "--port",
    String(port),
    "--bind",
    HOST,
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    ...(options.sentinel === true ? ["--sentinel"] : ["--enable-debug-command", "local"]),
    ...(options.args ?? []),
  ]
  let child: ChildProcess
  let output = ""
  const launch = async () => {
    output = ""
    child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] })
    live.add(child)
    child.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4_000)
    })
    child.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4_000)
    })
    child.once("exit", () => live.delete(child))
    await waitUntilAnswering(port, options.password, child, () => output)
  }
  const exited = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once("exit", () => resolve())
    })
  await launch()
  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    command: (...commandArgs) =>
      command(port, commandArgs, options.password === undefined ? {} : { password: options.password }),
    stop: async () => {
      child.kill("SIGCONT")
      child.kill("SIGTERM")
      await exited()
    },
    kill: async () => {
      child.kill("SIGKILL")
      await exited()
    },
    restart: async () => {
      if (child.exitCode === null && child.signalCode === null) await server.stop()
      await launch()
    },
    pause: () => {
      child.kill("SIGSTOP")
    },
    resume: () => {
      child.kill("SIGCONT")
    },
    clientKill: async (type) => {
      await server.command("CLIENT", "KILL", "TYPE", type)
    },
    get running() {
      return child.exitCode === null && child.signalCode === null
    },
  }
  return server
}

/** Stops servers and removes their directories; ignores ones already stopped. */
export const stopAll = async (servers: ReadonlyArray<RedisServer>): Promise<void> => {
  await Promise.all(
    servers.map(async (server) => {
      if (server.running) await server.kill()
      rmSync(server.dir, { recursive: true, force: true })
    }),
  )
}

/** A 3-master Redis Cluster (no replicas). */
export interface RedisCluster {
  readonly nodes: ReadonlyArray<RedisServer>
  /** Startup nodes for `new Redis.Cluster(...)`. */
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>
  stop(): Promise<void>
}

/**
 * Starts a Redis Cluster of `masters` nodes on loopback, joins them with
 * `redis-cli --cluster create` and waits until every node reports
 * `cluster_state:ok`.
 */
export const startCluster = async (masters = 3): Promise<RedisCluster> => {
  const nodes: Array<RedisServer> = []
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startRedis({
          clusterBus: true,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
          ],
        }),
      )
    }
    execFileSync(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...nodes.map((n) => `${HOST}:${n.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { stdio: "ignore", timeout: 30_000 },
    )
    const deadline = Date.now() + 20_000
    for (const node of nodes) {
      for (;;) {
        const info = await node.command("CLUSTER", "INFO")
        if (info.includes("cluster_state:ok")) break
        if (Date.now() > deadline) throw new RedisHarnessError(`cluster did not reach state ok: ${info}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  } catch (error) {
    await stopAll(nodes)
    throw error
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: HOST, port: n.port })),
    stop: () => stopAll(nodes),
  }
}

/** A master, a replica and three Sentinels watching them as `name`. */
export interface RedisSentinelSet {
  readonly name: string
  readonly master: RedisServer
  readonly replica: RedisServer
  readonly sentinels: ReadonlyArray<RedisServer>
  /** Sentinel addresses for `new Redis({ sentinels, name })`. */
  readonly sentinelAddresses: ReadonlyArray<{ host: string; port: number }>
  stop(): Promise<void>
}

/** Starts a Sentinel set on loopback and waits until every Sentinel knows the master. */
export const startSentinel = async (name = "strata"): Promise<RedisSentinelSet> => {
  const started: Array<RedisServer> = []
  try {
    const master = await startRedis()
    started.push(master)
    const replica = await startRedis({ args: ["--replicaof", HOST, String(master.port)] })
    started.push(replica)
    const sentinels: Array<RedisServer> = []
    for (let i = 0; i < 3; i++) {
      const sentinel = await startRedis({
        sentinel: true,
        config: [
          `sentinel monitor ${name} ${HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
        ],
      })
      started.push(sentinel)
      sentinels.push(sentinel)
    }
    const deadline = Date.now() + 20_000
    for (const sentinel of sentinels) {
      for (;;) {
        const reply = await sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
        if (reply.includes(String(master.port))) break
        if (Date.now() > deadline)
          throw new RedisHarnessError(`sentinel does not know master ${name}: ${reply}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    return {
      name,
      master,
      replica,
      sentinels,
      sentinelAddresses: sentinels.map((s) => ({ host: HOST, port: s.port })),
      stop: () => stopAll(started),
    }
  } catch (error) {
    await stopAll(started)
    throw error
  }
}
