import { startNode } from "./support/frameworks.ts"
import { serverSuite } from "./support/serverSuite.ts"

serverSuite("node:http", startNode)
