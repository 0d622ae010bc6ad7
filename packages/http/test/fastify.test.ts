import { startFastify } from "./support/frameworks.ts"
import { serverSuite } from "./support/serverSuite.ts"

serverSuite("Fastify 5", startFastify)
