import { describe } from "vitest"
import { algorithmSuite } from "../algorithmSuite.ts"

describe("gcra", () => {
  algorithmSuite("gcra")
})
