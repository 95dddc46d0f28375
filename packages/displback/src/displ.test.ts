// displfront against displback over the real grant-table, event-channel and xenstore cores: the
// handshake and keys, buffers of 1, 1023, 1024 and 2,025 pages in both allocation modes (pixels
// checked through the scanout), buffers made of non-adjacent pages, GET_EDID, every bad input of
// the brief answered with Xen's error codes while other connectors and guests keep working, no
// mapping left after DBUF_DESTROY or the device going away, and a backend killed and restarted
// while the guest flips.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GNTMAP_host_map,
  XenbusState,
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
  XenErrno,
} from "@xensim/abi";
import { DRM_FORMAT, fillDirectory } from "@xensim/displif";
import { Compositor, type Displfront, drawTestPattern, testPatternPixel } from "@xensim/displfront";
import { adjacent } from "@xensim/memory";
import { createVdispl, GUEST, GUEST2, type GuestSide, Rig, waitFor } from "./testing/rig.js";

async function connected(
  r: Rig,
  g: GuestSide,
  spec: Parameters<typeof createVdispl>[1],
): Promise<Displfront> {
  const p = await createVdispl(r.xs, spec);
  const f = await g.open(p.front);
  await f.whenConnected();
  return f;
}

/** The connector's scanout equals the test pattern of a w×h buffer over its top-left region. */
function assertPattern(r: Rig, domid: number, connector: number, w: number, h: number): void {
  const s = r.back.screen(domid, "0", connector);
  assert.ok(s, "screen");
  const rgba = s.scanout.toRgba();
  const W = Math.min(w, s.width);
  const H = Math.min(h, s.height);
  for (let y = 0; y < H; y += Math.max(1, Math.floor(H / 97)))
    for (let x = 0; x < W; x += Math.max(1, Math.floor(W / 89))) {
      const [pr, pg, pb] = testPatternPixel(x, y, w, h);
      const at: number = (y * s.width + x) * 4;
      assert.deepEqual([rgba[at], rgba[at + 1], rgba[at + 2]], [pr, pg, pb], `pixel ${x},${y}`);
    }
}

describe("handshake", () => {
  it("versions, per-connector keys, Connected both ways, EDID, close", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, {
      frontend: GUEST,
      connectors: [
        { width: 1920, height: 1080, id: "HDMI-A-1" },
        { width: 640, height: 480 },
      ],
    });
    const fk = (k: string) => r.xs.tryRead(`/local/domain/${GUEST}/device/vdispl/0/${k}`);
    const bk = (k: string) => r.xs.tryRead(`/local/domain/0/backend/vdispl/${GUEST}/0/${k}`);
    assert.equal(await bk("versions"), "1,2");
    assert.equal(await fk("version"), "2");
    for (const i of [0, 1])
      for (const k of ["req-ring-ref", "req-event-channel", "evt-ring-ref", "evt-event-channel"])
        assert.match((await fk(`${i}/${k}`)) ?? "", /^\d+$/, `${i}/${k}`);
    assert.equal(await fk("state"), String(XenbusState.Connected));
    await waitFor(async () => (await bk("state")) === String(XenbusState.Connected), "backend Connected");
    assert.deepEqual(
      f.connectors.map((c) => [c.width, c.height, c.uniqueId]),
      [
        [1920, 1080, "HDMI-A-1"],
        [640, 480, "DP-2"],
      ],
    );
    const edid = await f.getEdid(1);
    assert.equal(edid.length, 128);
    assert.equal(Buffer.from(edid.subarray(0, 8)).toString("hex"), "00ffffffffffff00");
    assert.equal(edid[56]! | ((edid[58]! >> 4) << 8), 640);
    await f.close();
    await waitFor(async () => (await bk("state")) === String(XenbusState.Closed), "backend Closed");
    assert.equal(r.dom0Mappings, 0, "no mapping left after close");
    assert.equal(g.memory.out, 0, "every guest page back");
    await r.back.close();
  });
});

describe("buffers", () => {
  for (const backendAlloc of [false, true])
    for (const pages of [1, 1023, 1024, 2025]) {
      it(`${pages} page(s), ${backendAlloc ? "backend" : "frontend"} allocation: pattern through the scanout, nothing left after destroy`, async () => {
        const r = await Rig.start();
        const g = r.guest();
        const f = await connected(r, g, {
          frontend: GUEST,
          beAlloc: backendAlloc,
          connectors: [{ width: 1024, height: 768 }],
        });
        // 1024 px × 4 bytes = one page per line: `pages` lines.
        const buf = await f.createBuffer({ width: 1024, height: pages, backendAlloc });
        assert.equal(buf.bufferSz, pages * 4096);
        assert.equal(buf.backendAllocated, backendAlloc);
        if (!backendAlloc) assert.equal(buf.gfns.length, pages);
        if (pages > 1023) assert.ok(buf.view.frames.length === pages, "a directory of several pages");
        drawTestPattern(buf);
        const fb = await f.attachFramebuffer(buf);
        assert.equal(await f.setConfig(0, fb), 0);
        assert.equal(await f.pageFlip(0, fb), 0);
        assertPattern(r, GUEST, 0, 1024, pages);
        assert.equal(r.back.screen(GUEST, "0", 0)!.frames, 1);
        assert.equal(r.back.bufferPagesInUse, pages);
        assert.equal(await f.detachFramebuffer(fb), 0);
        assert.equal(await f.destroyBuffer(buf), 0);
        assert.equal(r.back.bufferPagesInUse, 0);
        // Only the two channel pages stay mapped by dom0; the guest maps nothing.
        assert.equal(r.dom0Mappings, 2);
        assert.equal(r.host.gt.mappingCount(GUEST), 0);
        assert.equal(f.deferredGrants, 0);
        assert.equal(r.back.deferredGrants, 0);
        await f.close();
        assert.equal(r.dom0Mappings, 0);
        assert.equal(g.memory.out, 0);
        await r.back.close();
      });
    }

  it("buffers need no contiguous memory: scattered guest pages, the picture still right", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, { frontend: GUEST, connectors: [{ width: 256, height: 64 }] });
    // Fragment the guest's memory: take 80 pages, give every other one back.
    const taken = [];
    for (let i = 0; i < 80; i++) taken.push(await g.memory.allocPages(1, false));
    for (let i = 0; i < 80; i += 2) {
      const p = taken[i]!;
      if (typeof p !== "number") g.memory.freePages(p.gfns);
    }
    const buf = await f.createBuffer({ width: 256, height: 64 }); // 16 pages
    assert.equal(buf.gfns.length, 16);
    assert.ok(!adjacent(buf.gfns), `gfns ${buf.gfns.join(",")} are not one run`);
    for (let i = 1; i < buf.gfns.length; i++)
      assert.notEqual(buf.gfns[i], buf.gfns[i - 1]! + 1, "no two consecutive pages adjacent");
    assert.ok(!buf.view.contiguous);
    drawTestPattern(buf);
    const fb = await f.attachFramebuffer(buf);
    await f.setConfig(0, fb);
    assert.equal(await f.pageFlip(0, fb), 0);
    assertPattern(r, GUEST, 0, 256, 64);
    await f.close();
    await r.back.close();
  });

  it("16-bit RGB565 framebuffer is converted on compose", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, { frontend: GUEST, connectors: [{ width: 64, height: 8 }] });
    const buf = await f.createBuffer({ width: 64, height: 8, bpp: 16 });
    for (let i = 0; i < 64 * 8; i++) buf.view.setU16(i * 2, 0xf800); // pure red
    const fb = await f.attachFramebuffer(buf, DRM_FORMAT.RGB565);
    assert.equal(await f.setConfig(0, fb), 0);
    assert.equal(await f.pageFlip(0, fb), 0);
    const px = r.back.screen(GUEST, "0", 0)!.scanout.toRgba();
    assert.deepEqual([...px.subarray(0, 4)], [255, 0, 0, 255]);
    await f.close();
    await r.back.close();
  });
});

describe("bad input", () => {
  it("Xen's error codes in the responses; the other connector and guest keep working; nothing leaks", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, {
      frontend: GUEST,
      connectors: [
        { width: 64, height: 64 },
        { width: 64, height: 64 },
      ],
    });
    const g2 = r.guest(GUEST2);
    const f2 = await connected(r, g2, { frontend: GUEST2, connectors: [{ width: 32, height: 32 }] });
    const good = await f2.createBuffer({ width: 32, height: 32 });
    drawTestPattern(good);
    const goodFb = await f2.attachFramebuffer(good);
    await f2.setConfig(0, goodFb);

    // A directory page we build by hand (granted to dom0) whose content we choose.
    const handDir = async (to = 0) => {
      const p = await g.memory.allocPages(1, false);
      assert.ok(typeof p !== "number");
      const [ref] = g.refs.alloc(1)!;
      assert.equal(await g.xc.gnttabGrantAccess(ref!, to, p.gfns[0]!, false), 0);
      return { ref: ref!, view: p.view };
    };
    const create = (dbufCookie: bigint, grefDirectory: number, pages: number, extra: object = {}) =>
      f.request(0, {
        operation: XENDISPL_OP_DBUF_CREATE,
        dbufCookie,
        width: 1024,
        height: pages,
        bpp: 32,
        bufferSz: pages * 4096,
        flags: 0,
        grefDirectory,
        dataOfs: 0,
        ...extra,
      });
    const E = XenErrno;

    // Directory pointing at a gref nobody granted, and at one granted to another domain.
    const d1 = await handDir();
    fillDirectory([d1.view], [d1.ref], 2, [4000, 4001]);
    assert.equal((await create(101n, d1.ref, 2)).status, -E.EINVAL, "unmapped grants");
    const foreign = await handDir(GUEST2);
    fillDirectory([d1.view], [d1.ref], 1, [foreign.ref]);
    assert.equal((await create(102n, d1.ref, 1)).status, -E.EINVAL, "a grant for another domain");
    assert.equal(
      (await create(103n, foreign.ref, 1)).status,
      -E.EINVAL,
      "a directory granted to another domain",
    );
    // A chain that loops, and one shorter than buffer_sz needs.
    const d2 = await handDir();
    d1.view.setU32(0, d2.ref);
    d2.view.setU32(0, d1.ref);
    assert.equal((await create(104n, d1.ref, 3000)).status, -E.EINVAL, "a loop");
    d2.view.setU32(0, 0);
    assert.equal((await create(105n, d1.ref, 2047)).status, -E.EINVAL, "a chain too short");
    // Cookies: zero, and a duplicate.
    const ok = await f.createBuffer({ width: 64, height: 64 });
    assert.equal((await create(0n, d1.ref, 1)).status, -E.EINVAL, "zero cookie");
    assert.equal((await create(ok.cookie, d1.ref, 1)).status, -E.EINVAL, "duplicate cookie");
    // buffer_sz smaller than width × height × bpp, an unknown flag, bpp 7.
    assert.equal((await create(106n, d1.ref, 1, { height: 2 })).status, -E.EINVAL, "buffer too small");
    assert.equal((await create(107n, d1.ref, 1, { flags: 4 })).status, -E.EINVAL, "unknown flag");
    assert.equal((await create(108n, d1.ref, 1, { bpp: 7 })).status, -E.EINVAL, "bpp 7");
    assert.equal((await create(109n, d1.ref, 1, { flags: 1 })).status, -E.EOPNOTSUPP, "be-alloc not offered");
    // FB_ATTACH of an unknown buffer; then a good one.
    const attach = (dbufCookie: bigint, fbCookie: bigint, w = 64, h = 64) =>
      f.request(0, {
        operation: XENDISPL_OP_FB_ATTACH,
        dbufCookie,
        fbCookie,
        width: w,
        height: h,
        pixelFormat: DRM_FORMAT.XRGB8888,
      });
    assert.equal((await attach(999n, 900n)).status, -E.ENOENT, "unknown buffer");
    assert.equal((await attach(ok.cookie, 0n)).status, -E.EINVAL, "zero fb cookie");
    assert.equal(
      (await attach(ok.cookie, 901n, 65, 64)).status,
      -E.EINVAL,
      "framebuffer wider than the buffer",
    );
    assert.equal((await attach(ok.cookie, 902n)).status, 0);
    assert.equal((await attach(ok.cookie, 902n)).status, -E.EINVAL, "duplicate fb cookie");
    // SET_CONFIG larger than the buffer.
    const setc = (x: number, w: number) =>
      f.request(1, {
        operation: XENDISPL_OP_SET_CONFIG,
        fbCookie: 902n,
        x,
        y: 0,
        width: w,
        height: 64,
        bpp: 32,
      });
    assert.equal((await setc(0, 65)).status, -E.EINVAL, "wider than the framebuffer");
    assert.equal((await setc(10, 60)).status, -E.EINVAL, "x + width past the framebuffer");
    assert.equal((await setc(0, 64)).status, 0);
    // PG_FLIP on a detached framebuffer.
    assert.equal(await f.request(0, { operation: 0x13, fbCookie: 902n }).then((x) => x.status), 0);
    assert.equal(
      (await f.request(1, { operation: XENDISPL_OP_PG_FLIP, fbCookie: 902n })).status,
      -E.ENOENT,
      "flip of a detached framebuffer",
    );
    // An operation that does not exist.
    assert.equal(
      (await f.request(0, { operation: 0x42 as typeof XENDISPL_OP_PG_FLIP, fbCookie: 1n })).status,
      -E.ENOSYS,
    );

    // Meanwhile the other guest flips happily, and so does our connector 1 with a good buffer.
    assert.equal(await f2.pageFlip(0, goodFb), 0);
    assertPattern(r, GUEST2, 0, 32, 32);
    drawTestPattern(ok);
    const fb = await f.attachFramebuffer(ok);
    assert.equal(await f.setConfig(1, fb), 0);
    assert.equal(await f.pageFlip(1, fb), 0);
    assertPattern(r, GUEST, 1, 64, 64);
    assert.deepEqual(r.errors, [], "no driver error");

    // Nothing of the refused requests stays mapped: dom0 holds only the channels (2 × 2 pages for
    // this guest, 2 for the other) and the two good buffers (4 + 1 pages).
    assert.equal(r.dom0Mappings, 6 + 4 + 1);
    await f.close();
    await f2.close();
    assert.equal(r.dom0Mappings, 0);
    await r.back.close();
  });

  it("a frontend that never consumes events: the backend drops flip events past 63, keeps serving", async () => {
    const r = await Rig.start();
    const g = r.guest();
    // Events of the event-page channel never reach the driver (every second registration dropped).
    let n = 0;
    const deaf = { on: (p: number, h: () => void) => (n++ % 2 === 0 ? g.events.on(p, h) : () => {}) };
    const f = await (async () => {
      const p = await createVdispl(r.xs, { frontend: GUEST, connectors: [{ width: 16, height: 16 }] });
      const d = await g.open(p.front, { events: deaf });
      await d.whenConnected();
      return d;
    })();
    const g2 = r.guest(GUEST2);
    const f2 = await connected(r, g2, { frontend: GUEST2, connectors: [{ width: 16, height: 16 }] });
    const buf = await f.createBuffer({ width: 16, height: 16 });
    const fb = await f.attachFramebuffer(buf);
    await f.setConfig(0, fb);
    const sts = [];
    for (let i = 0; i < 70; i++)
      sts.push((await f.request(0, { operation: XENDISPL_OP_PG_FLIP, fbCookie: fb.cookie })).status);
    assert.deepEqual(sts, new Array(70).fill(0));
    const conn = r.back.devices.get(`/local/domain/0/backend/vdispl/${GUEST}/0`)!.connectors[0]!;
    assert.equal(conn.stats.events, 63);
    assert.equal(conn.stats.eventsDropped, 7);
    assert.equal(conn.events.outstanding, 63, "in_prod - in_cons = 63, never more");
    const b2 = await f2.createBuffer({ width: 16, height: 16 });
    const fb2 = await f2.attachFramebuffer(b2);
    await f2.setConfig(0, fb2);
    for (let i = 0; i < 100; i++) assert.equal(await f2.pageFlip(0, fb2), 0);
    await f.close();
    await f2.close();
    await r.back.close();
  });

  it("the device going away (domain destroyed) unmaps everything", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, {
      frontend: GUEST,
      beAlloc: true,
      connectors: [{ width: 64, height: 64 }],
    });
    await f.createBuffer({ width: 64, height: 64 });
    await f.createBuffer({ width: 640, height: 64, backendAlloc: true });
    assert.ok(r.dom0Mappings > 2);
    // libxl on destroy: the backend directory goes (the domain's grant mappings die with it).
    r.host.gt.destroyDomain(GUEST);
    await r.xs.rm(`/local/domain/0/backend/vdispl/${GUEST}`);
    await r.xs.rm(`/local/domain/${GUEST}/device/vdispl`);
    await waitFor(() => r.back.devices.size === 0 && r.dom0Mappings === 0, "device removed, mappings gone");
    await r.back.retryDeferred();
    assert.equal(r.back.deferredGrants, 0, "be-alloc grants ended once the guest's mappings died");
    assert.deepEqual(r.errors, []);
    f.abandon();
    await r.back.close();
  });
});

describe("backend restart", () => {
  it("displback killed and restarted while the guest flips: Reconfiguring, then connected again, flips resume", async () => {
    const r = await Rig.start();
    const g = r.guest();
    const f = await connected(r, g, { frontend: GUEST, connectors: [{ width: 160, height: 120 }] });
    let now = 0;
    const timer = {
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    const comp = new Compositor({ front: f, now: () => (now += 100), timer, periodMs: 2 });
    await comp.start();
    await waitFor(() => comp.frames >= 5, "frames before the kill");
    const states: number[] = [];
    const sub = f.subscribe((n) =>
      states.push(n.kind === "disconnected" ? -1 : n.kind === "connected" ? 1 : 0),
    );
    // Kill: the driver stops without unmapping or touching xenstore (a crashed process).
    r.back.abandon();
    await r.startBackend();
    await waitFor(() => states.includes(1), "reconnected");
    assert.deepEqual(states.slice(0, 2), [-1, 1], "disconnected, then connected again");
    const before = comp.frames;
    await waitFor(() => comp.frames >= before + 5, "flips resume after the restart");
    const s = r.back.screen(GUEST, "0", 0)!;
    assert.ok(s.frames >= 5, "the new backend composes");
    assert.equal(f.stats.connects, 2);
    comp.stop();
    sub();
    await f.close();
    await r.back.close();
  });
});

void GNTMAP_host_map;
