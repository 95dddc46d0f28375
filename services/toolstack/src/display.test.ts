// The display end to end on one host (hypervisor, xenstored, displback, guest runtime, toolstack as
// worker threads): a config with `vdispl` creates the libxl nodes, the guest's compositor flips, the
// toolstack serves each connector's frame as PNG and a live page; the PNG of a known test pattern
// (drawn by a displfront this test runs as a guest) equals the pattern pixel for pixel; the live
// page in Debian's headless chromium (playwright-core) shows an image that changes over time; a
// destroyed domain leaves no screen behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { Displfront, drawTestPattern, testPatternPixel } from "@xensim/displfront";
import { GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { freePort, tempDir, type TempDir, waitFor } from "@xensim/testkit";
import { writeVdisplDirectories } from "@xensim/toolstack";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { PNG } from "pngjs";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");
const CHROMIUM = "/usr/bin/chromium";

const CONFIG = [
  'name = "painter"',
  'type = "hvm"',
  "memory = 48",
  "vcpus = 1",
  "vdispl = [ 'backend=0, be-alloc=1, connectors=HDMI-A-1:320x200;DP-1:160x120' ]",
  'on_poweroff = "destroy"',
  "",
].join("\n");

describe("virtual display through the toolstack", { timeout: 120_000 }, () => {
  let host: HostHandle;
  let bus: EventBus;
  let xs0: XenstoreClient;
  let base: string;
  let dir: TempDir;
  const closers: Array<() => unknown> = [];

  before(async () => {
    dir = tempDir("xensim-display");
    closers.push(() => dir.cleanup());
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
        { name: "displback", entry: entry("displback"), config: {} },
        {
          name: "guest",
          entry: entry("guest"),
          config: { stateDir: join(dir.path, "guest"), statusIntervalMs: 200, displayPeriodMs: 50 },
        },
        {
          name: "toolstack",
          entry: entry("toolstack"),
          config: {
            guest: "guest",
            displback: "displback",
            hostMemoryMib: 256,
            api: { host: "127.0.0.1", port },
            timeouts: { backendMs: 5000, frontendMs: 5000, shutdownMs: 5000, detachMs: 3000, reapMs: 5000 },
          },
        },
      ],
      sharedMemoryBytes: 256 << 20,
      logLevel: "warn",
    });
    closers.unshift(() => host.stop());
    await host.ready;
    bus = createInProcessBus({ name: host.busName });
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    closers.unshift(
      () => bus.close(),
      () => xsCalls.close(),
    );
    xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "test-dom0" });
    closers.unshift(() => xs0.close());
  });
  after(async () => {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
  async function api(method: string, path: string, body?: string): Promise<{ status: number; body: any }> {
    const r = await fetch(`${base}${path}`, {
      method,
      signal: AbortSignal.timeout(15_000),
      ...(body !== undefined ? { body, headers: { "content-type": "text/plain" } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  }
  async function png(
    path: string,
  ): Promise<{ width: number; height: number; data: Uint8Array; frames: number }> {
    const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(15_000) });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get("content-type"), "image/png");
    const img = PNG.sync.read(Buffer.from(await r.arrayBuffer()));
    return {
      width: img.width,
      height: img.height,
      data: new Uint8Array(img.data),
      frames: Number(r.headers.get("x-xensim-frames")),
    };
  }

  let domid = 0;

  it("xl.cfg vdispl: libxl's nodes, the guest's compositor flipping, frames as PNG that change", async () => {
    const c = await api("POST", "/domains?filename=painter.cfg", CONFIG);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    domid = c.body.domid;
    const fe = `/local/domain/${domid}/device/vdispl/0`;
    const be = `/local/domain/0/backend/vdispl/${domid}/0`;
    assert.equal(await xs0.tryRead(`${fe}/be-alloc`), "1");
    assert.equal(await xs0.tryRead(`${fe}/0/resolution`), "320x200");
    assert.equal(await xs0.tryRead(`${fe}/0/unique-id`), "HDMI-A-1");
    assert.equal(await xs0.tryRead(`${fe}/1/resolution`), "160x120");
    assert.equal(await xs0.tryRead(`${fe}/backend`), be);
    assert.equal(await xs0.tryRead(`${be}/frontend-id`), String(domid));
    assert.equal(await xs0.tryRead(`${be}/versions`), "1,2");
    await waitFor(async () => (await xs0.tryRead(`${fe}/state`)) === "4", {
      timeoutMs: 20_000,
      message: "frontend Connected",
    });
    let screens: { frames: number; width: number; frame: string; uniqueId: string }[] = [];
    await waitFor(
      async () => {
        screens = (await api("GET", `/display/screens?domid=${domid}`)).body.screens;
        return screens.length === 2 && screens.every((s) => s.frames >= 3);
      },
      { timeoutMs: 20_000, message: "both connectors flipping" },
    );
    assert.deepEqual(
      screens.map((s) => [s.uniqueId, s.width]),
      [
        ["HDMI-A-1", 320],
        ["DP-1", 160],
      ],
    );
    const a = await png(`/domains/${domid}/vdispl/0/0/frame.png`);
    assert.deepEqual([a.width, a.height], [320, 200]);
    let b = a;
    await waitFor(
      async () => {
        b = await png(`/domains/${domid}/vdispl/0/0/frame.png`);
        return b.frames > a.frames;
      },
      { timeoutMs: 10_000, message: "a later frame" },
    );
    assert.ok(!Buffer.from(a.data).equals(Buffer.from(b.data)), "the picture changes between flips");
    assert.ok(
      a.data.some((v, i) => i % 4 !== 3 && v !== 0),
      "not a black screen",
    );
    assert.equal((await api("GET", `/domains/${domid}/vdispl/0/7/frame.png`)).status, 404);
  });

  it("the PNG of a known test pattern equals it pixel for pixel", async () => {
    // A guest of our own: its displfront draws the pattern and flips once.
    const hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    const created = await xc0.domainCreate({ memoryMib: 16, maxGrantFrames: 64 });
    assert.equal(created.rc, 0);
    const g = created.domid;
    await xs0.mkdir(`/local/domain/${g}`);
    await xs0.setPerms(`/local/domain/${g}`, [`n${g}`, "r0"]);
    await xs0.transaction((tx) =>
      writeVdisplDirectories(tx, g, 0, 0, {
        backend: "0",
        beAlloc: false,
        connectors: [{ id: "T", width: 200, height: 150 }],
      }),
    );
    const gcalls = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xc = new XenCtrl({ domid: g, calls: gcalls, store: host.sharedMemory, bus });
    await xc.gnttabSetupTable(g, 16);
    const kernel = new GuestKernel({ domid: g, xc, ramPages: 16 * 256 });
    const f = await Displfront.open({
      store: xs0,
      self: g,
      nodename: `/local/domain/${g}/device/vdispl/0`,
      hypervisor: xc,
      memory: kernel.memory,
      events: kernel.events,
      grantRefs: kernel.grantRefs,
      timer: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
    });
    try {
      await f.whenConnected();
      const buf = await f.createBuffer({ width: 200, height: 150 });
      drawTestPattern(buf);
      const fb = await f.attachFramebuffer(buf);
      assert.equal(await f.setConfig(0, fb), 0);
      assert.equal(await f.pageFlip(0, fb), 0);
      const img = await png(`/domains/${g}/vdispl/0/0/frame.png`);
      assert.deepEqual([img.width, img.height], [200, 150]);
      let wrong = 0;
      for (let y = 0; y < 150; y++)
        for (let x = 0; x < 200; x++) {
          const [r, gg, b] = testPatternPixel(x, y, 200, 150);
          const o = (y * 200 + x) * 4;
          if (img.data[o] !== r || img.data[o + 1] !== gg || img.data[o + 2] !== b || img.data[o + 3] !== 255)
            wrong++;
        }
      assert.equal(wrong, 0, "every pixel of the PNG is the pattern's");
      await f.close();
    } finally {
      f.abandon();
      await kernel.close();
      await xc0.domainDestroy(g);
      xc.close();
      xc0.close();
      gcalls.close();
      hv.close();
    }
  });

  it(
    "the live page in headless chromium: the image changes over time",
    { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (Debian package chromium)` },
    async () => {
      const { chromium } = await import("playwright-core");
      const profile = mkdtempSync(join(tmpdir(), "xensim-chromium-"));
      // A fresh profile directory (playwright passes it as --user-data-dir).
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
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
      try {
        const page = await browser.newPage();
        await page.goto(`${base}/display`);
        const img = page.locator(`img.screen[data-domid="${domid}"][data-connector="0"]`);
        await img.waitFor({ timeout: 20_000 });
        // Runs in the page: the image has been replaced by two loaded frames.
        await page.waitForFunction(
          `Number(document.querySelector('img.screen[data-domid="${domid}"][data-connector="0"]')?.dataset.loads ?? 0) >= 2`,
          undefined,
          { timeout: 20_000 },
        );
        const first = await img.screenshot();
        let changed = false;
        for (let i = 0; i < 40 && !changed; i++) {
          await page.waitForTimeout(150);
          changed = !Buffer.from(await img.screenshot()).equals(Buffer.from(first));
        }
        assert.ok(changed, "the displayed frame changed");
        const caption = await page.locator("figcaption").first().textContent();
        assert.match(caption ?? "", /HDMI-A-1 · 320x200 · \d+ flips/);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  );

  it("displback killed and restarted while the guest flips: the guest reconnects and flips again", async () => {
    const fe = `/local/domain/${domid}/device/vdispl/0`;
    const states = new Set<string>();
    const w = await xs0.watch(`${fe}/state`);
    const follow = (async () => {
      for await (const _ev of w) states.add((await xs0.tryRead(`${fe}/state`)) ?? "");
    })().catch(() => {});
    // A crash: the worker exits with no stop hook (nothing unmapped, nothing written to xenstore).
    await host.restartService("displback", { kill: true });
    await waitFor(
      async () => {
        const screens = (await api("GET", `/display/screens?domid=${domid}`)).body.screens ?? [];
        return screens.length === 2 && screens.every((s: { frames: number }) => s.frames >= 3);
      },
      { timeoutMs: 30_000, message: "the restarted displback shows new flips on both connectors" },
    );
    assert.equal(await xs0.tryRead(`${fe}/state`), "4");
    assert.ok(states.has("7"), `the frontend went through Reconfiguring (saw ${[...states].join(",")})`);
    await w.close();
    await follow;
    const img = await png(`/domains/${domid}/vdispl/0/0/frame.png`);
    assert.deepEqual([img.width, img.height], [320, 200]);
  });

  it("destroying the domain removes its display", async () => {
    const d = await api("DELETE", `/domains/${domid}`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(await xs0.tryRead(`/local/domain/0/backend/vdispl/${domid}/0/state`), undefined);
    await waitFor(
      async () => (await api("GET", `/display/screens?domid=${domid}`)).body.screens.length === 0,
      {
        timeoutMs: 10_000,
        message: "screens gone",
      },
    );
  });
});
