import { startExpress } from "./support/frameworks.ts"
import { serverSuite } from "./support/serverSuite.ts"

serverSuite("Express 5", startExpress)
