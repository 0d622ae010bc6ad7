import { startHono } from "./support/frameworks.ts"
import { serverSuite } from "./support/serverSuite.ts"

serverSuite("Hono 4", startHono)
