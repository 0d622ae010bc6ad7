import { describe } from "vitest"
import { algorithmSuite } from "../algorithmSuite.ts"

describe("sliding-log", () => {
  algorithmSuite("sliding-log")
})
