/**
 * The shop's query module: plain SQL with positional parameters, against
 * embedded PGlite by default or PostgreSQL (node-postgres) when a URL is
 * given. Both speak the same SQL; this module only hides how a query and a
 * transaction are run, and counts the statements sent.
 */
import { PGlite } from "@electric-sql/pglite"
import pg from "pg"

/** Runs statements: the database itself, or one transaction. */
export interface Queryable {
  /** Runs one statement and returns its rows. */
  readonly query: <Row>(sql: string, params?: ReadonlyArray<unknown>) => Promise<Array<Row>>
}

/** A database connection (PGlite in process, or a PostgreSQL pool). */
export interface Database extends Queryable {
  /** `"pglite"` or `"postgres"`. */
  readonly kind: "pglite" | "postgres"
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  readonly transaction: <A>(work: (tx: Queryable) => Promise<A>) => Promise<A>
  /** Runs a script of several statements with no parameters (schema, seed). */
  readonly exec: (script: string) => Promise<void>
  /** Statements sent so far. */
  readonly statements: () => number
  readonly close: () => Promise<void>
}

/** Where the data lives. */
export interface DatabaseOptions {
  /** A PostgreSQL URL; embedded in-memory PGlite when absent. */
  readonly url?: string | undefined
  /** The PostgreSQL schema to work in (created when missing); `public` when absent. */
  readonly schema?: string | undefined
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

/** Opens the database: PGlite in memory (nothing written to disk), or PostgreSQL at `options.url`. */
export const open = async (options: DatabaseOptions = {}): Promise<Database> => {
  if (options.schema !== undefined && !SCHEMA.test(options.schema))
    throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`)
  return options.url === undefined ? openPglite() : openPostgres(options.url, options.schema)
}

const openPglite = async (): Promise<Database> => {
  const db = await PGlite.create()
  let statements = 0
  const query = async <Row>(sql: string, params?: ReadonlyArray<unknown>) => {
    statements++
    return (await db.query<Row>(sql, params as Array<unknown> | undefined)).rows
  }
  return {
    kind: "pglite",
    query,
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async <Row>(sql: string, params?: ReadonlyArray<unknown>) => {
            statements++
            return (await tx.query<Row>(sql, params as Array<unknown> | undefined)).rows
          },
        }),
      ),
    exec: async (script) => {
      statements++
      await db.exec(script)
    },
    statements: () => statements,
    close: () => db.close(),
  }
}

const openPostgres = async (url: string, schema: string | undefined): Promise<Database> => {
  if (schema !== undefined) {
    const setup = new pg.Client({ connectionString: url })
    await setup.connect()
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
    } finally {
      await setup.end()
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 8,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  })
  let statements = 0
  const queryWith =
    (client: pg.Pool | pg.PoolClient) =>
    async <Row>(sql: string, params?: ReadonlyArray<unknown>) => {
      statements++
      return (await client.query(sql, params as Array<unknown> | undefined)).rows as Array<Row>
    }
  return {
    kind: "postgres",
    query: queryWith(pool),
    transaction: async (work) => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        const result = await work({ query: queryWith(client) })
        await client.query("COMMIT")
        return result
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
    exec: async (script) => {
      statements++
      await pool.query(script)
    },
    statements: () => statements,
    close: () => pool.end(),
  }
}
