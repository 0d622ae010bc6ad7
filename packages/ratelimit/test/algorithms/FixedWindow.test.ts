import { describe } from "vitest"
import { algorithmSuite } from "../algorithmSuite.ts"

describe("fixed-window", () => {
  algorithmSuite("fixed-window")
})
