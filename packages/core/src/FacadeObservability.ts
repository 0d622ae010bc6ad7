/**
 * Logging and tracing for the Promise facade, without Effect code: a
 * pino-compatible logger receives the cache's log lines and every event, and
 * an OTLP endpoint receives its spans.
 *
 * @since 0.1.0
 */
import { Cause, type Layer, Logger, type LogLevel } from "effect"
import type { CacheEvent } from "./CacheEvent.ts"

/** One level of a pino-compatible logger: `(object, message)`, as pino, bunyan-style and most structured loggers take it. */
export type LogMethod = (object: Record<string, unknown>, message?: string) => void

/**
 * A logger with pino's shape (pino itself, or any object with these
 * methods). `debug` and `info` may be left out; `warn` and `error` are
 * required.
 */
export interface PinoLike {
  readonly debug?: LogMethod | undefined
  readonly info?: LogMethod | undefined
  readonly warn: LogMethod
  readonly error: LogMethod
}

/** Where the facade exports spans: an OTLP/HTTP traces endpoint (such as `http://127.0.0.1:4318/v1/traces`). */
export interface OtlpOptions {
  readonly url: string
  /** The `service.name` resource attribute. Default `"strata"`. */
  readonly serviceName?: string | undefined
}

const methodOf = (logger: PinoLike, level: LogLevel.LogLevel): LogMethod => {
  switch (level) {
    case "Fatal":
    case "Error":
      return logger.error
    case "Warn":
      return logger.warn
    case "Info":
      return logger.info ?? (() => {})
    default:
      return logger.debug ?? (() => {})
  }
}

/** The cache's Effect log lines, sent to `logger` with the message as text and any failure as `err`. */
export const loggerLayer = (logger: PinoLike): Layer.Layer<never> =>
  Logger.layer([
    Logger.make(({ message, logLevel, cause }) => {
      const parts = Array.isArray(message) ? message : [message]
      const text = parts.filter((part) => typeof part === "string").join(" ")
      const objects = parts.filter((part) => typeof part !== "string")
      const object: Record<string, unknown> = { strata: true }
      if (objects.length > 0) object.err = objects[0]
      else if (cause.reasons.length > 0) object.err = Cause.squash(cause)
      methodOf(logger, logLevel).call(logger, object, text)
    }),
  ])

/**
 * How each event is logged: what the cache recovered from on its own is a
 * warning; a stale value served and the circuit closing again are info.
 */
const eventLevel = (event: CacheEvent): LogLevel.LogLevel => {
  switch (event._tag) {
    case "StaleServed":
      return "Info"
    case "CircuitChanged":
      return event.state === "closed" ? "Info" : "Warn"
    default:
      return "Warn"
  }
}

/** A listener that logs every event with its fields, under `message` "strata <tag>". */
export const eventLogger =
  (logger: PinoLike) =>
  (event: CacheEvent): void => {
    const { _tag, ...fields } = event as CacheEvent & Record<string, unknown>
    methodOf(logger, eventLevel(event)).call(
      logger,
      { strata: true, event: _tag, ...fields },
      `strata ${_tag}`,
    )
  }
