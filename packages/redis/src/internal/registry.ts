import type { Bus, Store } from "@strata/core"
import type { Redis } from "ioredis"
import type { Client } from "./connection.ts"

/** The raw connections behind stores and buses, for `@strata/redis/testing` only. */
export const storeClients = new WeakMap<Store.Service, Client>()
export const busSubscribers = new WeakMap<Bus.Service, () => Redis>()
