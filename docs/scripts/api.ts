/**
 * Generates the API reference (docs/api/, git-ignored) from the doc comments
 * of every library package with TypeDoc and typedoc-plugin-markdown, so the
 * reference pages cannot drift from the code. The entry points are read from
 * each packages/<name>/package.json `exports` map (its `@strata/source`
 * targets): a new package or subpath export appears here with no change.
 *
 * TypeDoc needs the TypeScript compiler API, which TypeScript 7 (the
 * workspace's `tsc`) does not have: the docs package pins TypeScript 5.9 as
 * its own devDependency, and TypeDoc resolves it from there.
 *
 *   node --import tsx scripts/api.ts
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Application, Comment, Converter, type DeclarationReflection, ReflectionKind } from "typedoc"

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const packages = resolve(docs, "../packages")
const out = join(docs, "api")
const started = Date.now()

interface EntryPoint {
  /** The import specifier users write: `@strata/core`, `@strata/core/testing`. */
  readonly specifier: string
  readonly file: string
}

/** Every `@strata/source` target of every package's exports map, with the specifier that reaches it. */
export const entryPoints = (): Array<EntryPoint> =>
  readdirSync(packages, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(packages, d.name, "package.json")))
    .flatMap((d) => {
      const manifest = JSON.parse(readFileSync(join(packages, d.name, "package.json"), "utf8")) as {
        name: string
        exports?: Record<string, Record<string, string>>
      }
      return Object.entries(manifest.exports ?? {}).flatMap(([subpath, conditions]) => {
        const source = conditions["@strata/source"]
        return source === undefined
          ? []
          : [
              {
                specifier:
                  subpath === "." ? manifest.name : `${manifest.name}/${subpath.replace(/^\.\//, "")}`,
                file: join(packages, d.name, source),
              },
            ]
      })
    })

/** The first doc comment of a file (the module's own), without its block tags. */
const moduleSummary = (file: string): string | undefined => {
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, "utf8"))
  if (match === null) return undefined
  const text = match[1]!
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
  // Up to its first block tag (`@since`); `@strata/core:` at the start of a line is text, not a tag.
  return text.split(/\n@[a-zA-Z]+(?=\s|$)/)[0]!.trim()
}

const main = async () => {
  const entries = entryPoints()
  rmSync(out, { recursive: true, force: true })
  const app = await Application.bootstrapWithPlugins({
    entryPoints: entries.map((e) => e.file),
    entryPointStrategy: "resolve",
    tsconfig: join(docs, "tsconfig.typedoc.json"),
    plugin: ["typedoc-plugin-markdown", "typedoc-vitepress-theme"],
    out,
    docsRoot: docs,
    readme: "none",
    // One page per module and namespace (about 25 pages rather than 250): quicker to build, easier to read.
    outputFileStrategy: "modules",
    // `tsc -b` type-checks the packages; TypeDoc only reads them.
    skipErrorChecking: true,
    excludePrivate: true,
    excludeInternal: true,
    // Members inherited from effect (the errors extend Schema.TaggedError) are effect's to document.
    excludeExternals: true,
    disableSources: true,
    sort: ["kind", "instance-first", "alphabetical-ignoring-documents"],
    hidePageHeader: true,
    useCodeBlocks: true,
    // Explicit anchors: TypeDoc's own slugs for repeated names (`#simoptions-1`) differ from VitePress's.
    useHTMLAnchors: true,
    parametersFormat: "table",
    interfacePropertiesFormat: "table",
    typeDeclarationFormat: "table",
    sidebar: { autoConfiguration: true, format: "vitepress", pretty: false, collapsed: true },
    logLevel: "Warn",
  } as Record<string, unknown>)
  // Modules are named by the specifier a user imports, not by their path under packages/.
  const specifiers = new Map<number, EntryPoint>()
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName
    const entry = entries.find((e) => file !== undefined && resolve(file) === e.file)
    if (entry !== undefined) specifiers.set(reflection.id, entry)
  })
  const project = await app.convert()
  if (project === undefined) throw new Error("TypeDoc could not convert the packages (see the errors above)")
  for (const module of project.children ?? []) {
    const entry = specifiers.get(module.id)
    if (entry === undefined) throw new Error(`no package entry point for module ${module.name}`)
    module.name = entry.specifier
    const summary = moduleSummary(entry.file)
    // The file's first comment describes the package; TypeDoc keeps only its tags unless it is marked @module.
    if (summary !== undefined && (module.comment?.summary.length ?? 0) === 0)
      module.comment = new Comment([{ kind: "text", text: summary }])
  }
  project.name = "API reference"
  await app.generateOutputs(project)
  if (app.logger.hasErrors()) throw new Error("TypeDoc reported errors (see above)")
  const modules = (project.children ?? []).filter((m: DeclarationReflection) =>
    m.kindOf(ReflectionKind.Module),
  )
  process.stdout.write(
    `api: ${modules.map((m) => m.name).join(", ")} -> ${relative(process.cwd(), out)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  )
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
