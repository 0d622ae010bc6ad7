import { describe } from "vitest"
import { algorithmSuite } from "../algorithmSuite.ts"

describe("sliding-window", () => {
  algorithmSuite("sliding-window")
})
