import { StoredResponse } from "@strata/http"
import { describe, expect, it } from "vitest"

const entry = (status: number): StoredResponse.StoredResponse => ({
  status,
  headers: [
    ["content-type", "text/plain"],
    ["x-app", "1"],
  ],
  body: new TextEncoder().encode("hello"),
  storedAt: 10_000,
  freshUntil: 70_000,
  graceUntil: 70_000,
  policy: "{}",
})

describe("StoredResponse", () => {
  it("becomes a Response with its headers, Age in whole seconds and X-Cache", async () => {
    const response = StoredResponse.toResponse(entry(200), "HIT", 12_999)
    expect([response.status, response.headers.get("age"), response.headers.get("x-cache")]).toEqual([
      200,
      "2",
      "HIT",
    ])
    expect(response.headers.get("x-app")).toBe("1")
    expect(await response.text()).toBe("hello")
  })

  it("has no body for 204 and 304, and a copy of the body otherwise", async () => {
    expect(StoredResponse.toResponse(entry(204), "HIT", 10_000).body).toBeNull()
    const stored = entry(200)
    const response = StoredResponse.toResponse(stored, "MISS", 10_000)
    new Uint8Array(await response.arrayBuffer()).fill(0)
    expect(new TextDecoder().decode(stored.body)).toBe("hello")
  })
})
