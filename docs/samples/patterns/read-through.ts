import { createCache, Keyspace, type StrataCache } from "@strata/core"
import { Schema } from "effect"

const User = Schema.Struct({ id: Schema.Int, name: Schema.String })
type User = typeof User.Type

const Users = Keyspace.make({
  name: "app.user",
  key: Schema.Struct({ id: Schema.Int }),
  value: User,
  ttl: "15 minutes",
})

/** The database's batch query, counting what it was asked for. */
export const makeDatabase = () => {
  const queries: Array<ReadonlyArray<number>> = []
  return {
    queries,
    async findUsers(ids: ReadonlyArray<number>): Promise<Array<User>> {
      queries.push(ids)
      return ids.map((id) => ({ id, name: `User ${id}` }))
    },
  }
}

// #region repository
/** The users repository: callers ask it, never the database; it reads through the cache. */
export const userRepository = (cache: StrataCache, db: ReturnType<typeof makeDatabase>) => {
  const users = cache.keyspace(Users)
  return {
    /** One user: the cache, else the database (one load per key, whoever asks). */
    byId: (id: number) =>
      users.getOrSet({ id }, async ({ id }) => {
        const [user] = await db.findUsers([id])
        if (user === undefined) throw new Error(`no user ${id}`)
        return user
      }),

    /** Many users in one round trip to each tier: the misses are loaded with one query and cached. */
    byIds: async (ids: ReadonlyArray<number>): Promise<Array<User>> => {
      const cached = await users.getMany(ids.map((id) => ({ id })))
      const missing = ids.filter((_, i) => cached[i] === undefined)
      const loaded = missing.length === 0 ? [] : await db.findUsers(missing)
      await users.setMany(loaded.map((user) => [{ id: user.id }, user] as const))
      const found = new Map(loaded.map((user) => [user.id, user]))
      return ids.map((id, i) => cached[i] ?? found.get(id)!)
    },
  }
}
// #endregion repository

export const main = async () => {
  const db = makeDatabase()
  const cache = await createCache()
  const repository = userRepository(cache, db)
  const one = await repository.byId(1)
  const many = await repository.byIds([1, 2, 3])
  const again = await repository.byIds([3, 2, 1])
  await cache.close()
  return { one, names: many.map((u) => u.name), again: again.map((u) => u.id), queries: db.queries }
}
