import { defineConfig } from "vitepress"
import { sidebar } from "./pages.ts"

// DOCS_BASE serves the site under a path (`/strata/`); every link in the pages is relative or base-aware.
const base = process.env.DOCS_BASE ?? "/"

export default defineConfig({
  title: "Strata",
  description: "A typed multi-tier cache engine for TypeScript, on Effect",
  base,
  lang: "en-US",
  srcExclude: ["samples/**", "test/**", "scripts/**", "README.md"],
  // The pages link to each other; a dead link fails the build.
  ignoreDeadLinks: false,
  lastUpdated: false,
  head: [["link", { rel: "icon", type: "image/svg+xml", href: `${base}favicon.svg` }]],
  markdown: { theme: { light: "github-light", dark: "github-dark" } },
  themeConfig: {
    nav: [
      { text: "Guide", link: "/guide/getting-started" },
      { text: "Patterns", link: "/patterns/" },
      { text: "Operations", link: "/guide/operations" },
      { text: "API", link: "/api/" },
      { text: "Benchmarks", link: "/benchmarks" },
    ],
    sidebar: sidebar() as never,
    search: { provider: "local" },
    outline: { level: [2, 3] },
    docFooter: { prev: "Previous", next: "Next" },
  },
})
