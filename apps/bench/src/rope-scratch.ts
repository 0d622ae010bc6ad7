const N = 8000,
  IT = 5_000_000
const m = new Map<string, number>()
for (let i = 0; i < N; i++) m.set(`user:v1:userId=${i}`, i)
const id = "user:v1"
const bench = (name: string, f: (i: number) => unknown) => {
  let s = 0
  for (let i = 0; i < 300000; i++) if (f(i % N) !== undefined) s++
  const t0 = performance.now()
  for (let i = 0; i < IT; i++) if (f(i % N) !== undefined) s++
  console.log(name.padEnd(30), (((performance.now() - t0) * 1e6) / IT).toFixed(1), s)
}
bench("template", (i) => m.get(`user:v1:userId=${i}`))
bench("rope3", (i) => {
  let out = ""
  out += "userId=" + String(i)
  const sk = "" + out
  return m.get(`${id}:${sk}`)
})
bench("rope concat", (i) => m.get(id + ":" + ("userId=" + String(i))))
const m2 = new Map<string, Map<string, number>>([[id, new Map()]])
for (let i = 0; i < N; i++) m2.get(id)!.set(`userId=${i}`, i)
bench("nested", (i) => m2.get(id)!.get("userId=" + String(i)))
bench("String(i) only", (i) => String(i))
