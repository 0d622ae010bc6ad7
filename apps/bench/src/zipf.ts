/**
 * Zipf-distributed key ids in [0, keys): id k has weight 1 / (k + 1)^alpha.
 * The CDF is computed once; each sample is a binary search. Seeded, so every
 * process and the hit-ratio simulation see the same kind of traffic.
 */
export const zipfSampler = (keys: number, alpha: number, seed: number): (() => number) => {
  const cdf = new Float64Array(keys)
  let sum = 0
  for (let k = 0; k < keys; k++) {
    sum += 1 / (k + 1) ** alpha
    cdf[k] = sum
  }
  let state = (seed ^ 0x9e3779b9) >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    const u = (state / 2 ** 32) * sum
    let lo = 0
    let hi = keys - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Hit ratio of an LRU of `capacity` entries over `requests` samples. */
export const simulateLru = (sample: () => number, capacity: number, requests: number): number => {
  const lru = new Map<number, true>()
  let hits = 0
  for (let i = 0; i < requests; i++) {
    const key = sample()
    if (lru.delete(key)) hits++
    else if (lru.size >= capacity) lru.delete(lru.keys().next().value!)
    lru.set(key, true)
  }
  return hits / requests
}

/** Hit ratio of SIEVE (the policy of Strata's L1) of `capacity` entries over `requests` samples. */
export const simulateSieve = (sample: () => number, capacity: number, requests: number): number => {
  // Queue as a circular doubly linked list over arrays; hand walks from tail to head.
  const keyAt = new Int32Array(capacity)
  const visited = new Uint8Array(capacity)
  const newer = new Int32Array(capacity).fill(-1)
  const older = new Int32Array(capacity).fill(-1)
  const slotOf = new Map<number, number>()
  let head = -1
  let tail = -1
  let hand = -1
  let used = 0
  let hits = 0
  const unlink = (slot: number) => {
    if (newer[slot] === -1) head = older[slot]!
    else older[newer[slot]!] = older[slot]!
    if (older[slot] === -1) tail = newer[slot]!
    else newer[older[slot]!] = newer[slot]!
  }
  for (let i = 0; i < requests; i++) {
    const key = sample()
    const found = slotOf.get(key)
    if (found !== undefined) {
      visited[found] = 1
      hits++
      continue
    }
    let slot: number
    if (used < capacity) slot = used++
    else {
      let node = hand === -1 ? tail : hand
      while (visited[node] === 1) {
        visited[node] = 0
        node = newer[node] === -1 ? tail : newer[node]!
      }
      hand = newer[node]!
      unlink(node)
      slotOf.delete(keyAt[node]!)
      slot = node
    }
    keyAt[slot] = key
    visited[slot] = 0
    newer[slot] = -1
    older[slot] = head
    if (head !== -1) newer[head] = slot
    head = slot
    if (tail === -1) tail = slot
    slotOf.set(key, slot)
  }
  return hits / requests
}
