// What a consumer would see if Strata's published types collapsed to `any`. The
// consumer check compiles example.ts against this module (tsconfig.any.json) and
// requires tsc to fail with TS2578: the example's `@ts-expect-error` would be unused.
export declare const Cache: any
export declare const createCache: any
export declare const Keyspace: any
export declare const MemoryStore: any
export type StrataCache = any
export declare const RedisBus: any
export declare const RedisStore: any
