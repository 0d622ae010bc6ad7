import { KeyEncoding } from "@strata/core"
import { Result, Schema, SchemaAST } from "effect"

const S = Schema.Struct({ userId: Schema.Int })
const is = Schema.is(S)
const enc = Schema.encodeUnknownResult(S)
const N = 2_000_000
const bench = (name: string, f: (i: number) => unknown) => {
  let sink = 0
  for (let i = 0; i < 200_000; i++) if (f(i)) sink++
  const t0 = performance.now()
  for (let i = 0; i < N; i++) if (f(i)) sink++
  console.log(name.padEnd(30), (((performance.now() - t0) * 1e6) / N).toFixed(1), "ns", sink > 0 ? "" : "!")
}
bench("Schema.is", (i) => is({ userId: i }))
bench("encodeUnknownResult", (i) => Result.isSuccess(enc({ userId: i })))
bench("KeyEncoding.encode", (i) => KeyEncoding.encode({ userId: i }))
bench("template string", (i) => `userId=${i}`)
bench("performance.now", () => performance.now())
bench("Date.now", () => Date.now())
console.log(
  S.ast._tag,
  JSON.stringify(Object.keys(S.ast)),
  (S.ast as any).propertySignatures.map((p: any) => [
    p.name,
    p.type._tag,
    p.type.checks?.length,
    p.type.encoding,
  ]),
)
console.log(SchemaAST.toEncoded(S.ast) === S.ast)
