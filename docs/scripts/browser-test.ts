/**
 * The docs site's browser test: serves the built site (docs/.vitepress/dist,
 * from `pnpm docs:build`) on a free loopback port, drives Debian's Chromium
 * through playwright-core (no browser download) and visits every page the
 * build produced. It fails on:
 *
 * - a console error or an uncaught exception on any page;
 * - an internal link, image or asset that does not answer 200, or a link to
 *   an anchor the target page does not have;
 * - an image that did not load (`naturalWidth` 0), a code block with no code;
 * - local search not finding "stampede";
 * - a benchmark chart missing for a workload of apps/bench/results/latest.json.
 *
 * It saves screenshots of the home page and of one pattern page under
 * docs/.screenshots/ (git-ignored), and exits non-zero on any failure.
 *
 *   pnpm docs:build && pnpm docs:browser-test
 *
 * CHROMIUM (default /usr/bin/chromium) names the browser; DOCS_BASE must be
 * the base the site was built with (default `/`); SHOP_METRICS_URL, when set,
 * also runs {@link checkShopMetrics} on that URL.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import sirv from "sirv"

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(docs, ".vitepress", "dist")
const screenshots = join(docs, ".screenshots")
const base = process.env.DOCS_BASE ?? "/"
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium"

/**
 * The flags this machine's Chromium needs: no sandbox (root, no user
 * namespaces), no GPU, and none of the background connections to Google's
 * hosts, which the closed network refuses (and logs as errors).
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
]

const started = Date.now()
const log = (message: string) =>
  process.stdout.write(
    `browser-test [${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`,
  )

/** Starts a Chromium for these checks (and for a future shop check). */
export const launch = (): Promise<Browser> =>
  chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true })

/** Serves the built site under `base` on a free loopback port. */
const serve = async (): Promise<{ server: Server; origin: string }> => {
  const assets = sirv(dist, {
    dev: false,
    etag: false,
    extensions: ["html"],
    // Hashed assets never change: each page's visit reuses the shared chunks from the cache, as a CDN would.
    setHeaders: (response, path) => {
      if (path.startsWith("/assets/"))
        response.setHeader("Cache-Control", "public, max-age=31536000, immutable")
    },
  })
  const server = createServer((request, response) => {
    const url = request.url ?? "/"
    if (!url.startsWith(base)) {
      response.writeHead(404).end("outside the site's base")
      return
    }
    request.url = `/${url.slice(base.length)}`
    assets(request, response, () => {
      response.writeHead(404).end("not found")
    })
  })
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** Every page the build wrote, as a path under the base (`guide/tiers.html`). */
const builtPages = (dir = dist): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "assets" ? [] : builtPages(path)
    return entry.name.endsWith(".html") && entry.name !== "404.html" ? [relative(dist, path)] : []
  })

interface PageReport {
  readonly links: ReadonlyArray<string>
  readonly ids: ReadonlyArray<string>
  readonly images: ReadonlyArray<{ src: string; alt: string; naturalWidth: number }>
  readonly codeBlocks: ReadonlyArray<number>
}

/** Loads a page and waits until Vue has hydrated it and its images have loaded (or failed). */
const visit = async (page: Page, url: string) => {
  await page.goto(url, { waitUntil: "load" })
  await page.waitForFunction(() => "__vue_app__" in (document.querySelector("#app") ?? {}), undefined, {
    timeout: 15_000,
  })
  await page.evaluate(() =>
    Promise.all([...document.images].map((image) => image.decode().catch(() => undefined))),
  )
}

/** Reads a loaded page: its links and images (resolved), its element ids and its code blocks' lengths. */
const inspect = (page: Page): Promise<PageReport> =>
  page.evaluate(() => ({
    links: [...document.querySelectorAll<HTMLAnchorElement>("a[href]")].map((a) => a.href),
    ids: [...document.querySelectorAll("[id]")].map((element) => element.id),
    images: [...document.querySelectorAll<HTMLImageElement>("img")].map((img) => ({
      src: img.currentSrc || img.src,
      alt: img.alt,
      naturalWidth: img.complete ? img.naturalWidth : 0,
    })),
    codeBlocks: [...document.querySelectorAll("div[class*='language-'] pre code")].map(
      (code) => (code.textContent ?? "").trim().length,
    ),
  }))

/**
 * The hook for the shop's metrics page (issue 14): opens `url` in `browser`
 * while the shop's scenario runs and returns what is wrong with it: console
 * errors, a failed load, or no non-zero hit count on the page. Not run by
 * default; `SHOP_METRICS_URL=<url>` runs it after the site checks.
 */
export const checkShopMetrics = async (browser: Browser, url: string): Promise<Array<string>> => {
  const failures: Array<string> = []
  const page = await browser.newPage()
  page.on("console", (message) => {
    if (message.type() === "error") failures.push(`console error: ${message.text()}`)
  })
  page.on("pageerror", (error) => failures.push(`uncaught: ${error.message}`))
  try {
    const response = await page.goto(url, { waitUntil: "load" })
    if (response === null || !response.ok())
      failures.push(`${url} answered ${response?.status() ?? "nothing"}`)
    // A table column headed "hits ..." must hold a number above zero (the header's own digits do not count).
    const hits = await page.evaluate(() => {
      let best = 0
      for (const table of Array.from(document.querySelectorAll("table"))) {
        const headers = Array.from(table.querySelectorAll("th")).map((th) => th.textContent ?? "")
        headers.forEach((header, column) => {
          if (!/^hits/i.test(header.trim())) return
          for (const row of Array.from(table.querySelectorAll("tr"))) {
            const value = Number((row.querySelectorAll("td")[column]?.textContent ?? "").replace(/,/g, ""))
            if (Number.isFinite(value) && value > best) best = value
          }
        })
      }
      return best
    })
    if (hits <= 0) failures.push(`${url} shows no non-zero hit count in a "hits" column`)
  } finally {
    await page.close()
  }
  return failures
}

const main = async () => {
  if (!existsSync(join(dist, "index.html"))) {
    process.stderr.write("browser-test: docs/.vitepress/dist is missing: run `pnpm docs:build` first\n")
    process.exit(1)
  }
  const failures: Array<string> = []
  const fail = (message: string) => {
    failures.push(message)
    log(`FAIL ${message}`)
  }
  mkdirSync(screenshots, { recursive: true })
  const { server, origin } = await serve()
  const site = `${origin}${base}`
  const browser = await launch()
  log(`serving ${relative(process.cwd(), dist)} at ${site}; ${await browser.version()} (${executablePath})`)
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    let current = ""
    page.on("console", (message) => {
      if (message.type() === "error") fail(`${current}: console error: ${message.text()}`)
    })
    page.on("pageerror", (error) => fail(`${current}: uncaught exception: ${error.message}`))
    page.on("response", (response) => {
      if (response.url().startsWith(origin) && response.status() >= 400)
        fail(`${current}: ${response.url()} answered ${response.status()}`)
    })
    page.on("requestfailed", (request) => {
      // Leaving a page cancels the prefetches of the pages it links to; a missing file answers 404 instead.
      if (request.failure()?.errorText !== "net::ERR_ABORTED")
        fail(`${current}: request failed: ${request.url()} (${request.failure()?.errorText})`)
    })

    // Every page: it loads, hydrates, and its images and code blocks render.
    const pages = builtPages().sort()
    const reports = new Map<string, PageReport>()
    let codeBlocks = 0
    for (const path of pages) {
      current = path
      await visit(page, `${site}${path}`)
      const report = await inspect(page)
      reports.set(`${site}${path}`, report)
      for (const image of report.images)
        if (image.naturalWidth === 0) fail(`${path}: image did not load: ${image.src} (${image.alt})`)
      for (const length of report.codeBlocks) if (length === 0) fail(`${path}: an empty code block`)
      codeBlocks += report.codeBlocks.length
    }
    log(`${pages.length} pages visited, ${codeBlocks} code blocks`)

    // Every internal link and image answers 200, and every anchor exists on its page.
    const targets = new Set<string>()
    for (const [from, report] of reports) {
      for (const link of [...report.links, ...report.images.map((i) => i.src)]) {
        if (!link.startsWith(origin)) continue
        targets.add(link.split("#")[0]!)
        const [path, hash] = link.split("#")
        if (hash === undefined || hash === "") continue
        const target = reports.get(path === `${site}` ? `${site}index.html` : path!)
        if (target !== undefined && !target.ids.includes(decodeURIComponent(hash)))
          fail(`${from}: link to a missing anchor: ${link}`)
      }
    }
    for (const target of targets) {
      const response = await fetch(target)
      if (response.status !== 200)
        fail(`broken internal link or image: ${target} answered ${response.status}`)
    }
    log(`${targets.size} internal links and images answer 200`)

    // Code samples render: the pattern page shows its sample's code.
    current = "patterns/cache-aside.html"
    await visit(page, `${site}patterns/cache-aside.html`)
    const sample = await page.locator("div[class*='language-'] pre code").allInnerTexts()
    if (!sample.some((code) => code.includes("getOrSet(")))
      fail("patterns/cache-aside.html: the sample's code is not on the page")
    await page.screenshot({ path: join(screenshots, "pattern.png") })

    // The bench charts: one per workload of the results, each loaded.
    current = "benchmarks.html"
    const results = JSON.parse(
      readFileSync(join(docs, "..", "apps", "bench", "results", "latest.json"), "utf8"),
    ) as { workloads: Array<{ id: string }> }
    const charts = (reports.get(`${site}benchmarks.html`)?.images ?? []).filter((i) =>
      /\/[A-Z]+\d+\./.test(i.src),
    )
    for (const { id } of results.workloads) {
      const chart = charts.find((c) => c.alt.startsWith(`${id} `))
      if (chart === undefined) fail(`benchmarks.html: no chart for ${id}`)
      else if (chart.naturalWidth === 0) fail(`benchmarks.html: the chart of ${id} did not load`)
    }
    log(`${charts.length} bench charts loaded (${results.workloads.length} workloads)`)

    // Local search finds "stampede".
    current = "index.html (search)"
    await visit(page, site)
    await page.screenshot({ path: join(screenshots, "home.png") })
    await page.locator(".VPNavBarSearch button").click()
    await page.locator(".search-input").fill("stampede")
    const firstResult = page.locator(".results .result").first()
    await firstResult.waitFor({ timeout: 10_000 })
    const hits = await page.locator(".results .result").allInnerTexts()
    const href = await firstResult.getAttribute("href")
    if (!hits.some((hit) => /stampede/i.test(hit)) || href === null || !href.includes("stampede"))
      fail(`search for "stampede" found ${hits.length} results, the first ${href}`)
    log(`search "stampede": ${hits.length} results, first ${href}`)

    if (process.env.SHOP_METRICS_URL !== undefined) {
      for (const failure of await checkShopMetrics(browser, process.env.SHOP_METRICS_URL))
        fail(`shop: ${failure}`)
      log(`shop metrics page checked: ${process.env.SHOP_METRICS_URL}`)
    }
    log(
      `screenshots: ${relative(process.cwd(), join(screenshots, "home.png"))}, ${relative(process.cwd(), join(screenshots, "pattern.png"))}`,
    )
  } finally {
    await browser.close()
    server.close()
  }
  if (failures.length > 0) {
    process.stderr.write(`browser-test: ${failures.length} failures\n`)
    process.exit(1)
  }
  log("all checks passed")
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
