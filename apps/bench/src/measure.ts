/**
 * Measurement helpers: every ratio compares candidate and baseline measured
 * in the same process run, interleaved A/B/A/B, and reports the median of the
 * rounds; latencies keep every sample for percentiles.
 */

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Nearest-rank percentile. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** Runs each measurement once to warm up, then `rounds` times interleaved; returns each one's samples. */
export const interleave = async <K extends string>(
  rounds: number,
  measurements: Record<K, () => Promise<number> | number>,
): Promise<Record<K, Array<number>>> => {
  const names = Object.keys(measurements) as Array<K>
  const out = Object.fromEntries(names.map((n) => [n, [] as Array<number>])) as Record<K, Array<number>>
  for (const name of names) await measurements[name]()
  for (let round = 0; round < rounds; round++) {
    for (const name of names) out[name].push(await measurements[name]())
  }
  return out
}

/** Nanoseconds per call of a synchronous function over `ops` calls (keys `i % keys`). */
export const nsPerSync = (ops: number, keys: number, f: (i: number) => unknown): number => {
  let found = 0
  const started = performance.now()
  for (let i = 0; i < ops; i++) if (f(i % keys) !== undefined) found++
  const ns = ((performance.now() - started) * 1e6) / ops
  if (found !== ops) throw new Error(`expected every read to hit, ${ops - found} missed`)
  return ns
}

/** Nanoseconds per awaited call, one caller. */
export const nsPerAsync = async (
  ops: number,
  keys: number,
  f: (i: number) => Promise<unknown>,
): Promise<number> => {
  let found = 0
  const started = performance.now()
  for (let i = 0; i < ops; i++) if ((await f(i % keys)) !== undefined) found++
  const ns = ((performance.now() - started) * 1e6) / ops
  if (found !== ops) throw new Error(`expected every read to hit, ${ops - found} missed`)
  return ns
}

/** Operations per second with `inFlight` callers sharing `ops` calls. */
export const throughput = async (
  ops: number,
  inFlight: number,
  f: (i: number) => Promise<unknown>,
): Promise<number> => {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ops) await f(next++)
    }),
  )
  return ops / ((performance.now() - started) / 1000)
}

/** Latency of each of `ops` sequential calls, in microseconds. */
export const latencies = async (ops: number, f: (i: number) => Promise<unknown>): Promise<Array<number>> => {
  const out = new Array<number>(ops)
  for (let i = 0; i < ops; i++) {
    const started = performance.now()
    await f(i)
    out[i] = (performance.now() - started) * 1000
  }
  return out
}

/** Interleaved latency rounds: concatenates each side's samples across rounds. */
export const interleaveLatencies = async <K extends string>(
  rounds: number,
  measurements: Record<K, () => Promise<Array<number>>>,
): Promise<Record<K, Array<number>>> => {
  const names = Object.keys(measurements) as Array<K>
  const out = Object.fromEntries(names.map((n) => [n, [] as Array<number>])) as Record<K, Array<number>>
  for (const name of names) await measurements[name]()
  for (let round = 0; round < rounds; round++) {
    for (const name of names) out[name].push(...(await measurements[name]()))
  }
  return out
}

/** A ~1 KB user object, built per key. */
export const user = (i: number) => ({
  id: i,
  name: `User ${i}`,
  email: `user${i}@example.com`,
  plan: i % 3 === 0 ? "pro" : "free",
  bio: `Bio of user ${i}. `.repeat(48).slice(0, 900),
  tags: ["a", "b", "c"],
})
