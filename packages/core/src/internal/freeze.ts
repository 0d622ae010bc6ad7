/**
 * Deep-freezes a value that was just decoded (so the cache owns it and no
 * caller holds a reference). Returns true when freezing cannot protect it:
 * objects with internal slots (Date, Map, Set, typed arrays) stay mutable
 * through their methods, so such values are copied on every read instead.
 */
export const freezeDeep = (value: unknown): boolean => freeze(value, 0)

const freeze = (value: unknown, depth: number): boolean => {
  if (typeof value !== "object" || value === null) return false
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof Map || value instanceof Set)
    return true
  if (depth > 200) return true
  let mutable = false
  if (Array.isArray(value)) {
    for (const item of value) if (freeze(item, depth + 1)) mutable = true
  } else {
    for (const name of Object.keys(value)) {
      if (freeze((value as Record<string, unknown>)[name], depth + 1)) mutable = true
    }
  }
  Object.freeze(value)
  return mutable
}
