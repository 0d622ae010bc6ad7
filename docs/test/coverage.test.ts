/**
 * The docs cannot drift from the code:
 *
 * - every option (each member of an exported `*Options` interface of
 *   @strata/core, @strata/redis and @strata/http, with the members of the interfaces it
 *   extends and of nested option objects, such as `lease.ttl`), every event
 *   (the `CacheEvent` union), every error (the tagged errors of Errors.ts),
 *   every store failure reason and every metric is named in the guide pages
 *   (docs/guide and docs/patterns; the generated API reference does not
 *   count). The lists are read from the sources with the TypeScript parser,
 *   never written by hand;
 * - the pages show code only by including sample files (no pasted copies),
 *   every include names a file and region that exist, every sample is
 *   included by a page and run by a test;
 * - the benchmarks page's table and chart list are what the results JSON gives.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const root = resolve(docs, "..")

const filesUnder = (dir: string, ext: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : filesUnder(path, ext)
        return entry.name.endsWith(ext) ? [path] : []
      })
    : []

const parse = (file: string) =>
  ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)

const isExported = (node: ts.Node) =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

/** The interface named `name` in `file`, or in a file `file` imports it from (relative imports only). */
const findInterface = (
  file: string,
  name: string,
): { file: string; node: ts.InterfaceDeclaration } | undefined => {
  const source = parse(file)
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement) && statement.name.text === name) return { file, node: statement }
  }
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue
    const bindings = statement.importClause?.namedBindings
    if (bindings === undefined || !ts.isNamedImports(bindings)) continue
    if (!bindings.elements.some((e) => e.name.text === name)) continue
    const from = statement.moduleSpecifier.text
    if (from.startsWith(".")) return findInterface(resolve(dirname(file), from), name)
  }
  return undefined
}

/** The option paths of an interface: its members, its bases' members, and nested object members (`lease.ttl`). */
const optionPaths = (file: string, node: ts.InterfaceDeclaration): Array<string> => {
  const paths: Array<string> = []
  const members = (list: ts.NodeArray<ts.TypeElement>, prefix: string) => {
    for (const member of list) {
      if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue
      const path = `${prefix}${member.name.text}`
      paths.push(path)
      // Nested option objects, such as `lease?: { ttl?, pollInterval? } | false | undefined`.
      const types =
        member.type === undefined ? [] : ts.isUnionTypeNode(member.type) ? member.type.types : [member.type]
      for (const type of types) if (ts.isTypeLiteralNode(type)) members(type.members, `${path}.`)
    }
  }
  members(node.members, "")
  for (const clause of node.heritageClauses ?? []) {
    for (const base of clause.types) {
      // Qualified bases (`Cache.Options`) are exported interfaces of their own, checked on their own.
      if (!ts.isIdentifier(base.expression)) continue
      const found = findInterface(file, base.expression.text)
      if (found !== undefined) paths.push(...optionPaths(found.file, found.node))
    }
  }
  return paths
}

/** Every exported `*Options` interface of the library packages users configure. */
const options = (): Map<string, Array<string>> => {
  const out = new Map<string, Array<string>>()
  for (const pkg of ["core", "redis", "http"]) {
    for (const file of filesUnder(join(root, "packages", pkg, "src"), ".ts")) {
      if (file.includes(`${join("src", "internal")}`)) continue
      for (const statement of parse(file).statements) {
        if (
          ts.isInterfaceDeclaration(statement) &&
          isExported(statement) &&
          statement.name.text.endsWith("Options")
        )
          out.set(`${relative(root, file)}: ${statement.name.text}`, optionPaths(file, statement))
      }
    }
  }
  return out
}

/** The `_tag` of every member of the `CacheEvent` union. */
const events = (): Array<string> => {
  const file = join(root, "packages/core/src/CacheEvent.ts")
  const source = parse(file)
  const union = source.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === "CacheEvent",
  )
  if (union === undefined || !ts.isUnionTypeNode(union.type)) throw new Error("CacheEvent is not a union")
  return union.type.types.map((member) => {
    const name = ts.isTypeReferenceNode(member) ? member.typeName.getText(source) : member.getText(source)
    const declaration = findInterface(file, name)?.node
    const tag = declaration?.members.find(
      (m): m is ts.PropertySignature => ts.isPropertySignature(m) && m.name.getText(source) === "_tag",
    )
    const literal = tag?.type !== undefined && ts.isLiteralTypeNode(tag.type) ? tag.type.literal : undefined
    if (literal === undefined || !ts.isStringLiteral(literal)) throw new Error(`${name} has no string _tag`)
    return literal.text
  })
}

/** The tag of every exported `Schema.TaggedError` class of Errors.ts, and the store failure reasons. */
const errors = (): { tags: Array<string>; reasons: Array<string> } => {
  const tags: Array<string> = []
  const reasons: Array<string> = []
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && isExported(node)) {
      // `class X extends Schema.TaggedError<X>()("X", { ... })`: the tag is the outer call's first argument.
      const base = node.heritageClauses?.[0]?.types[0]?.expression
      if (base !== undefined && ts.isCallExpression(base) && ts.isStringLiteral(base.arguments[0]!))
        tags.push((base.arguments[0] as ts.StringLiteral).text)
    }
    if (ts.isVariableDeclaration(node) && node.name.getText() === "StoreFailureReason") {
      node.forEachChild(function literals(child): void {
        if (ts.isStringLiteral(child)) reasons.push(child.text)
        child.forEachChild(literals)
      })
    }
    node.forEachChild(visit)
  }
  visit(parse(join(root, "packages/core/src/Errors.ts")))
  return { tags, reasons }
}

/** Every metric name of CacheMetrics.ts. */
const metrics = (): Array<string> => {
  const names: Array<string> = []
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && /^Metric\.(counter|gauge|histogram)$/.test(node.expression.getText()))
      if (node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0]))
        names.push(node.arguments[0].text)
    node.forEachChild(visit)
  }
  visit(parse(join(root, "packages/core/src/CacheMetrics.ts")))
  return names
}

/** The guide pages, and every inline code span they hold. */
const guidePages = [...filesUnder(join(docs, "guide"), ".md"), ...filesUnder(join(docs, "patterns"), ".md")]
const spans = guidePages.flatMap((page) =>
  [...readFileSync(page, "utf8").matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!),
)
const word = (name: string) => new RegExp(`(^|[^\\w$])${name.replace(/[.$]/g, "\\$&")}($|[^\\w$])`)
/** `lease.ttl` is named by a span holding `lease.ttl`, or holding both `lease` and `ttl` (`lease: { ttl }`). */
const named = (path: string) => {
  const parts = path.split(".")
  return spans.some(
    (span) => word(path).test(span) || (parts.length > 1 && parts.every((part) => word(part).test(span))),
  )
}

describe("the guide pages name everything the code exports", () => {
  it("reads a sensible amount from the sources (the readers work)", () => {
    const all = [...options().values()].flat()
    expect(all).toEqual(
      expect.arrayContaining(["l1", "maxEntries", "lease.ttl", "prefix", "heartbeatMillis", "url"]),
    )
    expect(events()).toEqual(expect.arrayContaining(["EntryDropped", "CircuitChanged"]))
    expect(errors().tags).toEqual(expect.arrayContaining(["InvalidKey", "BusUnavailable"]))
    expect(errors().reasons).toEqual(expect.arrayContaining(["unreachable", "out-of-range"]))
    expect(metrics()).toEqual(expect.arrayContaining(["strata_cache_hits", "strata_cache_l1_entries"]))
  })

  it("every option", () => {
    const missing = [...options()].flatMap(([where, paths]) =>
      paths.filter((path) => !named(path)).map((path) => `${where}: ${path}`),
    )
    expect(missing).toEqual([])
  })

  it("every event", () => {
    expect(events().filter((tag) => !named(tag))).toEqual([])
  })

  it("every error and every store failure reason", () => {
    const { tags, reasons } = errors()
    expect([...tags, ...reasons].filter((name) => !named(name))).toEqual([])
  })

  it("every metric", () => {
    expect(metrics().filter((name) => !named(name))).toEqual([])
  })
})

const handWritten = filesUnder(docs, ".md").filter(
  (page) => !page.startsWith(join(docs, "api")) && !page.includes(`${join("docs", ".vitepress")}`),
)
const includes = handWritten.flatMap((page) =>
  [...readFileSync(page, "utf8").matchAll(/^<<< @\/(\S+?)(?:#([\w-]+))?(?:\s|$)/gm)].map((match) => ({
    page: relative(docs, page),
    file: match[1]!,
    region: match[2],
  })),
)

describe("code on the pages comes from samples that run", () => {
  it("no page pastes TypeScript or JavaScript: code is included from a sample file", () => {
    const pasted = handWritten.filter((page) =>
      /^```(ts|typescript|js|javascript|tsx|mts)\b/m.test(readFileSync(page, "utf8")),
    )
    expect(pasted.map((page) => relative(docs, page))).toEqual([])
  })

  it("every include names a file and a region that exist", () => {
    const broken = includes.filter(({ file, region }) => {
      const path = join(docs, file)
      if (!existsSync(path)) return true
      return region !== undefined && !readFileSync(path, "utf8").includes(`// #region ${region}`)
    })
    expect(broken).toEqual([])
  })

  const samples = filesUnder(join(docs, "samples"), ".ts").map((file) => relative(docs, file))
  const tests = filesUnder(join(docs, "test"), ".ts").map((file) => readFileSync(file, "utf8"))

  it("every sample is shown on a page", () => {
    expect(samples.filter((sample) => !includes.some((include) => include.file === sample))).toEqual([])
  })

  it("every sample is run by a test", () => {
    const run = (sample: string) => tests.some((test) => test.includes(`"../${sample}"`))
    expect(samples.filter((sample) => !run(sample))).toEqual([])
  })
})

describe("the benchmarks page", () => {
  it("holds the table and the chart list the results JSON gives", async () => {
    // apps/bench is outside this project's TypeScript program: its module is loaded by path.
    const generator = join(root, "apps/bench/src/docs.ts")
    const { page } = (await import(generator)) as { page: (text: string, results: unknown) => string }
    const results = JSON.parse(readFileSync(join(root, "apps/bench/results/latest.json"), "utf8"))
    const text = readFileSync(join(docs, "benchmarks.md"), "utf8")
    expect(page(text, results)).toBe(text)
  })
})
