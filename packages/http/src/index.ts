/**
 * @strata/http: API response caching on Strata. `CachedFetch.make` caches
 * upstream responses (RFC 9111 freshness, revalidation, stale on error,
 * one upstream call per key across processes); `ResponseCache` is the
 * framework-neutral core of the server middleware under
 * `@strata/http/node`, `/express`, `/fastify` and `/hono`.
 *
 * @since 0.1.0
 */
export * as CachedFetch from "./CachedFetch.ts"
export * from "./Errors.ts"
export * as HttpKeyspace from "./HttpKeyspace.ts"
export * as ResponseCache from "./ResponseCache.ts"
export * as StoredResponse from "./StoredResponse.ts"
