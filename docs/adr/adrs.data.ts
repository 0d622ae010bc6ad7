import { createContentLoader } from "vitepress"

/** A decision record, as the index lists it. */
export interface Decision {
  readonly url: string
  readonly title: string
}

declare const data: ReadonlyArray<Decision>

export { data }

// Every ADR of docs/adr/ (NNNN-*.md), in number order: adding one is adding its file.
export default createContentLoader("adr/[0-9]*.md", {
  render: false,
  transform: (pages) =>
    pages
      .map((page) => ({
        url: page.url,
        title: /^# (.+)$/m.exec(page.src ?? "")?.[1] ?? page.url,
      }))
      .sort((a, b) => a.url.localeCompare(b.url)),
  includeSrc: true,
})
