// The toolstack's dashboard in a real headless browser (Debian's chromium driven by playwright-core)
// against `xensim up` with the example guests: domain rows, disk charts drawn (checked in the
// screenshot's pixels), a live value seen to change, xenstore watch events arriving, a fault set
// through the API shown and healed with the page's button; and bad input: nothing outside the
// routes is served, and writes from another origin are refused.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { REPO_ROOT, spawnXensim, XENSIM_BIN, type XensimProcess } from "./harness.js";

const CHROMIUM = process.env.XENSIM_CHROMIUM ?? "/usr/bin/chromium";

/** A raw GET (no URL normalisation by the client), for path traversal attempts. */
/** The API token of the host under test (issue 14: every request carries it). */
let apiToken = "";
const authHeader = (): Record<string, string> => ({ authorization: `Bearer ${apiToken}` });
/** fetch with the API token. */
function apiFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...authHeader() } });
}

function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: "GET", headers: authHeader() },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** How many pixels of `png` are near the colour `rgb` (the charts draw their first series in it). */
function pixelsNear(png: Buffer, rgb: [number, number, number]): number {
  const img = PNG.sync.read(png);
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const d =
      Math.abs(img.data[i]! - rgb[0]) +
      Math.abs(img.data[i + 1]! - rgb[1]) +
      Math.abs(img.data[i + 2]! - rgb[2]);
    if (d < 60) n++;
  }
  return n;
}

describe(
  "dashboard (headless chromium)",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` },
  () => {
    const dir = tempDir("xensim-dashboard-");
    let up: XensimProcess | undefined;
    let api = "";
    /** guest1's disk row (its domid depends on the order the examples were created in). */
    const guest1Disk = async (): Promise<string> => {
      const { domains } = (await (await apiFetch(`${api}/domains`)).json()) as {
        domains: { name: string; id: number }[];
      };
      const g = domains.find((d) => d.name === "guest1");
      assert.ok(g, "guest1 exists");
      return `#disks tbody tr[data-disk="${g.id}/xvda"]`;
    };
    const stateDir = join(dir.path, "host");
    let browser: BrowserContext | undefined;
    let page: Page | undefined;

    before(async () => {
      up = spawnXensim([
        "up",
        "--state-dir",
        stateDir,
        "--api-port",
        "0",
        "--examples",
        join(REPO_ROOT, "examples"),
      ]);
      await waitFor(() => (up!.output().match(/created domain/g)?.length ?? 0) >= 3, {
        timeoutMs: 90_000,
        message: `three example domains: ${up.output()}`,
      });
      api = readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
      // a fresh profile directory: launchPersistentContext takes it (playwright refuses --user-data-dir)
      browser = await chromium.launchPersistentContext(join(dir.path, "chromium-profile"), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 1600 },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          "--disable-sync",
        ],
      });
      page = await browser.newPage();
      const problems: string[] = [];
      page.on("pageerror", (e) => problems.push(String(e)));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      // the API token (issue 14): the page gets it as an HttpOnly cookie from ?token=, once
      apiToken = readFileSync(join(stateDir, "api-token"), "utf8").trim();
      await page.goto(`${api}/dashboard/?token=${encodeURIComponent(apiToken)}`);
      (page as Page & { problems?: string[] }).problems = problems;
    });

    after(async () => {
      await browser?.close();
      if (up) assert.equal(await up.stop(), 0, up.output());
      dir.cleanup();
    });

    it("shows every domain, the disks with their ring figures, and draws the disk charts", async () => {
      const p = page!;
      await p.locator("#domains tbody tr").nth(3).waitFor({ timeout: 30_000 });
      // A domain still being created is listed before its name is known ("(domid N)").
      let names: (string | null)[] = [];
      await waitFor(
        async () => {
          names = await p.$$eval("#domains tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
          return ["Domain-0", "guest1", "guest-file", "guest-array"].every((n) => names.includes(n));
        },
        { timeoutMs: 30_000, message: `every example domain listed by name (${names.join()})` },
      );
      const row = await guest1Disk();
      await p.waitForSelector(row, { timeout: 30_000 });
      // figures arrive with the second scrape; the chart canvases then have data
      await p.locator('[data-chart^="iops "] canvas').first().waitFor({ timeout: 30_000 });
      await waitFor(async () => Number(await p.textContent(`${row} td.iops`)) > 0, {
        timeoutMs: 30_000,
        message: "IOPS of guest1's disk",
      });
      await p.waitForTimeout(3000); // a few more points on the chart
      const table = await p.locator("#domains").screenshot();
      assert.ok(PNG.sync.read(table).height > 60, "the domain table has rows");
      const chart = await p.locator('[data-chart^="iops "]').first().screenshot();
      const line = pixelsNear(chart, [0x15, 0x65, 0xc0]);
      assert.ok(line > 50, `the IOPS chart draws its line (${line} pixels of its colour)`);
      const whole = await p.screenshot({ fullPage: true });
      assert.ok(PNG.sync.read(whole).width >= 1400);
      const state = await p.textContent(`${row} td:nth-child(3)`);
      assert.equal(state, "Connected/Connected");
      // The console panel shows the selected guest's COM1 (its device model's UART): the BIOS banner.
      assert.match((await p.textContent("#console")) ?? "", /xensim BIOS: booting /);
      assert.equal(await p.textContent("#screen"), "not available");
    });

    it("a live value changes on its own, and xenstore watch events arrive", async () => {
      const p = page!;
      const read = () => p.textContent("#clock");
      const first = await read();
      await waitFor(async () => (await read()) !== first, {
        timeoutMs: 15_000,
        message: "the live clock moves",
      });
      const row = await guest1Disk();
      const iops = () => p.textContent(`${row} td.iops`);
      const a = await iops();
      await waitFor(async () => (await iops()) !== a, {
        timeoutMs: 15_000,
        message: "the IOPS figure changes",
      });
      assert.equal(await p.textContent("#live"), "live");
      // a write in the store shows up as a watch event on the page
      const w = spawnSync(
        process.execPath,
        [
          XENSIM_BIN,
          "xenstore",
          "--socket",
          join(stateDir, "xenstored.sock"),
          "write",
          "/dashboard-test/key",
          "watched",
        ],
        { encoding: "utf8", timeout: 20_000 },
      );
      assert.equal(w.status, 0, w.stderr);
      await p
        .locator("#xs-events li", { hasText: '/dashboard-test/key = "watched"' })
        .first()
        .waitFor({ timeout: 15_000 });
      const problems = (p as Page & { problems?: string[] }).problems ?? [];
      assert.deepEqual(problems, [], "no script errors on the page");
    });

    it("an active fault is shown and healed with the page's button", async () => {
      const p = page!;
      const set = await apiFetch(`${api}/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          target: "blkback",
          component: "calls.server",
          rules: { seed: 5, calls: [{ method: "NoSuchMethod", latencyMs: 1 }] },
        }),
      });
      assert.equal(set.status, 200, await set.text());
      const fault = p.locator('[data-fault="blkback calls.server"]');
      await fault.waitFor({ timeout: 15_000 });
      await fault.getByRole("button", { name: "Heal" }).click();
      await fault.waitFor({ state: "detached", timeout: 15_000 });
      const now = (await (await apiFetch(`${api}/faults`)).json()) as {
        services: Array<{ target: string; components: Record<string, { rules: { calls?: unknown[] } }> }>;
      };
      const bb = now.services.find((s) => s.target === "blkback");
      assert.ok(bb, JSON.stringify(now));
      assert.equal(bb.components["calls.server"]?.rules.calls, undefined);
    });

    it("a chaos fault (the one fault API) is shown in the faults panel and healed with its own button", async () => {
      const p = page!;
      const set = await apiFetch(`${api}/chaos/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "xenstore.watch-delayed", delayMs: 1, probability: 0.000001 }),
      });
      const body = (await set.json()) as { id: number };
      assert.equal(set.status, 200, JSON.stringify(body));
      const fault = p.locator(`[data-chaos-fault="${body.id} xenstore.watch-delayed"]`);
      await fault.waitFor({ timeout: 15_000 });
      assert.match((await fault.textContent()) ?? "", /xenstore\.watch-delayed · xenstored/);
      await fault.getByRole("button", { name: "Heal" }).click();
      await fault.waitFor({ state: "detached", timeout: 15_000 });
      const now = (await (await apiFetch(`${api}/chaos/faults`)).json()) as { faults: unknown[] };
      assert.deepEqual(now.faults, []);
    });

    it("the trace panel streams live protocol events of the chosen domain and kind", async () => {
      const p = page!;
      const { domains } = (await (await apiFetch(`${api}/domains`)).json()) as {
        domains: Array<{ name: string; id: number }>;
      };
      // the guest whose workload runs longest is still doing I/O
      const g = domains.find((d) => d.name === "display1") ?? domains.find((d) => d.name === "guest1");
      assert.ok(g, JSON.stringify(domains));
      await p.selectOption("#trace-domain", String(g.id));
      await p.selectOption("#trace-kind", "ring");
      await p.click("#trace-toggle");
      await waitFor(async () => (await p.locator("#trace-events li").count()) >= 5, {
        timeoutMs: 30_000,
        message: `trace lines of domain ${g.id}: ${await p.textContent("#trace-count")}`,
      });
      const lines = await p.$$eval("#trace-events li", (lis) =>
        lis.map((li) => ({ cls: li.className, text: li.textContent ?? "" })),
      );
      for (const l of lines) {
        assert.equal(l.cls, "k-ring", l.text);
        assert.match(l.text, new RegExp(`\\bd(${g.id}>d0|0>d${g.id})\\b`), l.text);
      }
      assert.ok(lines.some((l) => / request /.test(l.text) && /operation=read/.test(l.text)));
      const shot = await p.locator("#trace-panel").screenshot();
      const ink = pixelsNear(shot, [0x15, 0x65, 0xc0]);
      assert.ok(ink > 200, `the ring lines are drawn in their colour (${ink} pixels)`);
      await p.click("#trace-toggle");
      assert.equal(await p.textContent("#trace-toggle"), "Start");
      // a bad kind through the same route: the API's error, not a stream
      const bad = await apiFetch(`${api}/dashboard/api/trace?kind=nope`);
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /unknown trace kind 'nope'/);
    });

    it("serves nothing outside its routes and refuses writes from another origin", async () => {
      for (const path of [
        "/dashboard/assets/..%2F..%2Fpackage.json",
        "/dashboard/assets/%2e%2e%2fdashboard.js",
        "/dashboard/../../package.json",
        "/dashboard/assets/../../../etc/passwd",
        "/dashboard/assets/app.ts",
        "/dashboard/index.html",
        "/etc/passwd",
        "/dashboard/api/nothing",
      ]) {
        const r = await rawGet(api, path);
        assert.equal(r.status, 404, `${path}: ${r.status} ${r.body.slice(0, 200)}`);
        assert.ok(!r.body.includes('"workspaces"') && !r.body.includes("root:x:0"), path);
      }
      assert.equal((await rawGet(api, "/dashboard/assets/app.js")).status, 200);
      assert.equal((await rawGet(api, "/dashboard/api/xenstore?path=../etc")).status, 400);
      assert.equal((await rawGet(api, "/dashboard/api/domains/x/evtchn")).status, 400);
      // the dashboard's data routes are read-only
      for (const [method, path] of [
        ["POST", "/dashboard/api/snapshot"],
        ["DELETE", "/dashboard/api/xenstore?path=/local"],
        ["PUT", "/dashboard/assets/app.js"],
      ] as const) {
        const r = await apiFetch(`${api}${path}`, { method });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
      // a page on another origin cannot heal, set faults or destroy through the browser
      for (const [method, path] of [
        ["DELETE", "/faults"],
        ["DELETE", "/domains/1"],
        ["POST", "/domains/1/pause"],
      ] as const) {
        const r = await apiFetch(`${api}${path}`, { method, headers: { origin: "http://attacker.example" } });
        assert.equal(r.status, 403, `${method} ${path}`);
      }
      const bad = await apiFetch(`${api}/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ target: "blkback", rules: { events: [{ subject: "x", drop: 7 }] } }),
      });
      assert.equal(bad.status, 400);
      const listed = (await (await apiFetch(`${api}/domains`)).json()) as { domains: Array<{ id: number }> };
      assert.ok(
        listed.domains.some((d) => d.id === 1),
        "domain 1 is still there",
      );
    });
  },
);
