import { Bus, Msgpack } from "@strata/core"
import { Result, Schema } from "effect"

/**
 * What travels on the bus channel: msgpack `{ v, node, seq, msgs }`, a batch
 * of everything one process published in one tick, numbered per sender so a
 * subscriber can tell when it missed one.
 */
const Envelope = Schema.Struct({
  v: Schema.Literal(1),
  node: Schema.String,
  seq: Schema.Int,
  // The sender's wall clock at publish (ms since the epoch), for the bus-lag histogram; absent from older senders.
  at: Schema.optional(Schema.Number),
  msgs: Schema.Array(Bus.Message),
})
const decodeEnvelope = Schema.decodeUnknownResult(Envelope)

/** The bytes of one batch. */
export const encode = (node: string, seq: number, messages: ReadonlyArray<Bus.Message>): Buffer =>
  Buffer.from(Msgpack.pack({ v: 1, node, seq, at: Date.now(), msgs: messages }))

/** A batch read from the channel, or why it was dropped. */
export type Decoded =
  | {
      readonly _tag: "Batch"
      readonly node: string
      readonly seq: number
      /** The sender's wall clock at publish, in ms since the epoch, when it sent one. */
      readonly at: number | undefined
      readonly messages: ReadonlyArray<Bus.Message>
    }
  | { readonly _tag: "Dropped"; readonly reason: string }

/** What `decode` answers for this process's own batches, which Redis delivers back to it. */
export const OWN = { _tag: "Own" } as const

/**
 * Reads a payload from the channel; never throws (forged or garbled bytes are
 * `Dropped`). A batch this process sent (`own` node id) is recognised before
 * its messages are checked against their schema: every process receives its
 * own batches back, so that check would be paid on every write.
 */
export const decode = (payload: Buffer, own: string): Decoded | typeof OWN => {
  let raw: unknown
  try {
    raw = Msgpack.unpack(payload)
  } catch (error) {
    return { _tag: "Dropped", reason: `undecodable bus message: ${(error as Error).message}` }
  }
  if (typeof raw === "object" && raw !== null && (raw as { node?: unknown }).node === own) return OWN
  const envelope = decodeEnvelope(raw)
  if (Result.isFailure(envelope))
    return { _tag: "Dropped", reason: `malformed bus message: ${envelope.failure.message}` }
  const { node, seq, at, msgs } = envelope.success
  return { _tag: "Batch", node, seq, at, messages: msgs }
}

/**
 * Tracks each sender's sequence numbers: `observe` returns the previous
 * number when the new one does not follow it (a batch was lost between
 * them), `undefined` otherwise. `reset` forgets every sender (after a gap,
 * numbering starts over as far as this subscriber knows).
 */
export const sequenceCheck = () => {
  const last = new Map<string, number>()
  return {
    observe: (node: string, seq: number): number | undefined => {
      const previous = last.get(node)
      last.set(node, seq)
      return previous !== undefined && seq !== previous + 1 ? previous : undefined
    },
    reset: () => last.clear(),
  }
}

/**
 * Keys a message is de-duplicated by in the retry queue; a later message for
 * the same key replaces an earlier one. `Filled` is a hint for lease waiters,
 * who poll anyway: not worth retrying.
 */
export const dedupKeys = (message: Bus.Message): ReadonlyArray<readonly [string, Bus.Message]> => {
  switch (message._tag) {
    case "InvalidateKeys":
      return message.keys.map(
        (key) =>
          [
            `k\u0000${message.space}\u0000${key}`,
            { _tag: "InvalidateKeys", space: message.space, keys: [key] },
          ] as const,
      )
    case "InvalidateTag":
      return [[`t\u0000${message.tag}`, message]]
    case "ClearSpace":
      return [[`c\u0000${message.space}`, message]]
    case "Reset":
      return [["r", message]]
    case "Filled":
      return []
  }
}
