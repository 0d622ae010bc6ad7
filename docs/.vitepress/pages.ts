/**
 * The site's page list and sidebar, read from the folders: a page added to
 * docs/patterns/, docs/migration/ or docs/adr/ appears in the sidebar (and in
 * its section's index) with no other change; the concept and operations
 * guides are listed in order below, one line each.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const docsRoot = join(dirname(fileURLToPath(import.meta.url)), "..")

export interface SidebarItem {
  readonly text: string
  readonly link?: string
  readonly items?: ReadonlyArray<SidebarItem>
  readonly collapsed?: boolean
}

/** A page's front matter fields (flat `key: value` lines only) and its first `# ` heading. */
export const readPage = (file: string): { fields: Record<string, string>; title: string | undefined } => {
  const text = readFileSync(join(docsRoot, file), "utf8")
  const fields: Record<string, string> = {}
  const front = /^---\n([\s\S]*?)\n---/.exec(text)
  for (const line of front?.[1]?.split("\n") ?? []) {
    const match = /^(\w+):\s*(.*)$/.exec(line)
    if (match !== null) fields[match[1]!] = match[2]!.replace(/^["']|["']$/g, "")
  }
  const title = /^# (.+)$/m.exec(text)?.[1]?.trim()
  return { fields, title }
}

/** The link of a Markdown page, as VitePress routes it. */
const linkOf = (file: string) => `/${file.replace(/(^|\/)index\.md$/, "$1").replace(/\.md$/, "")}`

/** One page as a sidebar item: `sidebarTitle` from its front matter, else its `# ` heading. */
export const page = (file: string, text?: string): SidebarItem => {
  const { fields, title } = readPage(file)
  return { text: text ?? fields.sidebarTitle ?? title ?? file, link: linkOf(file) }
}

/**
 * Every page of a folder but its index, ordered by the `order` field of
 * their front matter, then by file name.
 */
export const folder = (dir: string): Array<SidebarItem> =>
  readdirSync(join(docsRoot, dir))
    .filter((name) => name.endsWith(".md") && name !== "index.md")
    .map((name) => ({
      name,
      order: Number(readPage(`${dir}/${name}`).fields.order ?? Number.POSITIVE_INFINITY),
    }))
    .sort((a, b) => a.order - b.order || a.name.localeCompare(b.name))
    .map(({ name }) => page(`${dir}/${name}`))

/** The API reference's sidebar, written by TypeDoc (docs/scripts/api.ts) into docs/api/. */
const apiSidebar = (): Array<SidebarItem> => {
  const file = join(docsRoot, "api", "typedoc-sidebar.json")
  if (!existsSync(file))
    throw new Error(
      "docs/api/ is missing: run `pnpm docs:build` (or `pnpm --filter @strata/docs run api`) first",
    )
  return JSON.parse(readFileSync(file, "utf8")) as Array<SidebarItem>
}

export const sidebar = (): Array<SidebarItem> => [
  {
    text: "Introduction",
    items: [page("index.md", "What Strata is"), page("guide/getting-started.md", "Getting started")],
  },
  {
    text: "Concepts",
    items: [
      page("guide/keyspaces.md", "Keyspaces and key schemas"),
      page("guide/tiers.md", "Tiers: L1, L2 and the bus"),
      page("guide/cache.md", "Reads, writes, what comes back"),
      page("guide/consistency.md", "The consistency contract"),
      page("guide/bus.md", "Invalidation and gaps"),
      page("guide/stampede.md", "Stampede protection"),
      page("guide/fail-safe.md", "Fail-safe and timeouts"),
      page("guide/errors-and-events.md", "Errors and events"),
    ],
  },
  { text: "Patterns", link: "/patterns/", items: folder("patterns") },
  {
    text: "Operations",
    items: [
      page("guide/operations.md", "Running Strata"),
      page("guide/redis.md", "The Redis tier"),
      page("guide/store-drivers.md", "Writing a store driver"),
    ],
  },
  { text: "Migration", link: "/migration/", items: folder("migration") },
  { text: "API reference", link: "/api/", collapsed: true, items: apiSidebar() },
  { text: "Benchmarks", link: "/benchmarks" },
  { text: "Design decisions", link: "/adr/", collapsed: true, items: folder("adr") },
]
