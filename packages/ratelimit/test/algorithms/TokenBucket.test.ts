import { describe } from "vitest"
import { algorithmSuite } from "../algorithmSuite.ts"

describe("token-bucket", () => {
  algorithmSuite("token-bucket")
})
