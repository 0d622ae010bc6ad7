/**
 * Options objects are checked for names they do not know: a typo
 * (`idenity`, `keyHeader`) must fail at once, not quietly turn a rule off.
 */
import { InvalidHttpInput } from "../Errors.ts"

/** Throws `InvalidHttpInput` (`reason: "option"`) for an option of `options` not in `known`. */
export const onlyKnown = (what: string, options: object, known: ReadonlyArray<string>): void => {
  if (typeof options !== "object" || options === null)
    throw new InvalidHttpInput({ reason: "option", message: `${what} takes an options object` })
  for (const name of Object.keys(options)) {
    if (!known.includes(name))
      throw new InvalidHttpInput({
        reason: "option",
        message: `${what}: unknown option ${JSON.stringify(name)}; the options are ${known.join(", ")}`,
      })
  }
}

/** An HTTP field name (RFC 9110 §5.1: a token). */
export const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
