import { createContentLoader } from "vitepress"

/** A pattern page, as the patterns index lists it (from the page's front matter). */
export interface Pattern {
  readonly url: string
  readonly title: string
  readonly summary: string
  readonly order: number
}

declare const data: ReadonlyArray<Pattern>

export { data }

// Every page of docs/patterns/: adding a pattern is adding its page.
export default createContentLoader("patterns/*.md", {
  transform: (pages) =>
    pages
      .filter((page) => !page.url.endsWith("/patterns/"))
      .map((page) => ({
        url: page.url,
        title: String(page.frontmatter.title ?? page.url),
        summary: String(page.frontmatter.summary ?? ""),
        order: Number(page.frontmatter.order ?? Number.POSITIVE_INFINITY),
      }))
      .sort((a, b) => a.order - b.order || a.url.localeCompare(b.url)),
})
