import { describe, expect, it } from "vitest"
import { normaliseUrl, varyOf } from "../../src/internal/serverKey.ts"

describe("serverKey", () => {
  it("sorts query parameters by name, keeping the order of repeated names", () => {
    expect(normaliseUrl("/p?b=2&a=1&b=1")).toBe("/p?a=1&b=2&b=1")
    expect(normaliseUrl("/p")).toBe("/p")
    expect(normaliseUrl("/p?")).toBe("/p")
  })

  it("reads Vary as lower-case, sorted, deduplicated names", () => {
    expect(
      varyOf([
        ["vary", "Accept-Language, accept-encoding"],
        ["vary", "Accept-Encoding"],
        ["content-type", "x"],
      ]),
    ).toEqual(["accept-encoding", "accept-language"])
    expect(varyOf([["vary", "*"]])).toEqual(["*"])
  })
})
