// The ring / grant / event-channel helpers. Unit tests with a scripted XenbusHypervisor for the
// rollback paths (which grant or map fails is chosen); the same helpers against the real hypervisor
// service are a scenario in test/src/xenbus-rings.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_okay,
  XenErrno,
  XenbusState,
} from "@xensim/abi";
import fc from "fast-check";
import { XenbusDevice } from "./device.js";
import { GrantRefPool, type XenbusHypervisor } from "./grant-rings.js";
import { EngineHub } from "@xensim/xenstore-client";
import { createVbd } from "./testing/vbd.js";

/** A hypervisor whose grant table is a Map; `failGrantAt` / `badRefs` script the failures. */
class ScriptedHypervisor implements XenbusHypervisor<string> {
  readonly grants = new Map<number, { domid: number; gfn: number; ro: boolean }>();
  readonly mapped = new Map<number, number>(); // handle -> ref
  readonly calls: string[] = [];
  failGrantAt = -1;
  badRefs = new Set<number>();
  failUnmap = false;
  private nextHandle = 1;
  private grantCount = 0;

  async evtchnAllocUnbound(dom: number, remoteDom: number) {
    this.calls.push(`alloc ${dom} ${remoteDom}`);
    return remoteDom === 99 ? { rc: -XenErrno.ESRCH, port: 0 } : { rc: 0, port: 5 };
  }
  async evtchnBindInterdomain(remoteDom: number, remotePort: number) {
    this.calls.push(`bind ${remoteDom} ${remotePort}`);
    return remotePort === 0 ? { rc: -XenErrno.EINVAL, port: 0 } : { rc: 0, port: 9 };
  }
  async evtchnClose(port: number) {
    this.calls.push(`close ${port}`);
    return port === 9 ? 0 : -XenErrno.EINVAL;
  }
  async gnttabGrantAccess(ref: number, domid: number, gfn: number, ro: boolean) {
    if (this.grantCount++ === this.failGrantAt) return -XenErrno.EINVAL;
    this.grants.set(ref, { domid, gfn, ro });
    return 0;
  }
  async gnttabEndAccess(ref: number) {
    if ([...this.mapped.values()].includes(ref)) return false;
    return this.grants.delete(ref);
  }
  async gnttabMapGrantRefs(_dom: number, refs: readonly number[], flags: number) {
    this.calls.push(`map ${refs.join(",")} flags=${flags}`);
    const results = refs.map((ref) => {
      if (this.badRefs.has(ref) || !this.grants.has(ref)) return { status: GNTST_bad_gntref, handle: -1 };
      const handle = this.nextHandle++;
      this.mapped.set(handle, ref);
      return { status: GNTST_okay, handle };
    });
    const ok = results.every((r) => r.status === GNTST_okay);
    return { results, view: ok ? `view of ${refs.join(",")}` : undefined };
  }
  async gnttabUnmap(handles: readonly number[]) {
    this.calls.push(`unmap ${handles.join(",")}`);
    return handles.map((h) => (this.failUnmap || !this.mapped.delete(h) ? GNTST_bad_handle : GNTST_okay));
  }
}

async function devices(hv: ScriptedHypervisor, pool = new GrantRefPool(32)) {
  const hub = new EngineHub();
  const { client } = hub.connect();
  const p = await createVbd(client, 0, 3, 51712);
  const front = await XenbusDevice.open({
    store: client,
    self: 3,
    side: "frontend",
    nodename: p.front,
    hypervisor: hv,
    grantRefs: pool,
  });
  const back = await XenbusDevice.open({
    store: client,
    self: 0,
    side: "backend",
    nodename: p.back,
    hypervisor: hv,
  });
  return { client, front, back, pool };
}

describe("GrantRefPool", () => {
  it("allocOne / freeOne: one ref without an array; a second free or a stranger is ignored", () => {
    const pool = new GrantRefPool(3, 8);
    assert.deepEqual([pool.allocOne(), pool.allocOne(), pool.allocOne(), pool.allocOne()], [8, 9, 10, -1]);
    pool.freeOne(9);
    pool.freeOne(9);
    pool.freeOne(7);
    pool.freeOne(1.5);
    pool.freeOne(1 << 20);
    assert.equal(pool.available, 1);
    assert.equal(pool.allocOne(), 9);
    pool.free([8, 10]);
    assert.deepEqual(pool.alloc(2), [10, 8]);
  });

  it("hands out each ref once, skips the reserved ones, and takes back only what it gave", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 30 }), (sizes) => {
        const pool = new GrantRefPool(16);
        const out = new Set<number>();
        const held: number[][] = [];
        for (const n of sizes) {
          const got = pool.alloc(n);
          if (got === undefined) {
            assert.ok(n > pool.available);
            const back = held.shift();
            if (back) {
              pool.free(back);
              for (const r of back) out.delete(r);
            }
            continue;
          }
          for (const r of got) {
            assert.ok(r >= 8 && r < 24);
            assert.ok(!out.has(r));
            out.add(r);
          }
          held.push(got);
        }
        pool.free([1, 2, 99]); // never given out: ignored
        assert.equal(pool.available + out.size, 16);
      }),
    );
  });
});

describe("ring helpers, scripted hypervisor", () => {
  it("grantRing grants each page to the other end; ungrantRing returns the refs", async () => {
    const hv = new ScriptedHypervisor();
    const { front, pool } = await devices(hv);
    const r = await front.grantRing([0x100, 0x101, 0x102]);
    assert.equal(r.rc, 0);
    assert.deepEqual(r.refs, [8, 9, 10]);
    assert.deepEqual(hv.grants.get(9), { domid: 0, gfn: 0x101, ro: false });
    assert.equal(pool.available, 29);
    assert.deepEqual(await front.ungrantRing(r.refs), { ok: true, stillMapped: [] });
    assert.equal(pool.available, 32);
    assert.equal(hv.grants.size, 0);
  });

  it("grantRing rolls back when one grant fails: earlier grants ended, refs freed, device fails", async () => {
    const hv = new ScriptedHypervisor();
    hv.failGrantAt = 2;
    const { front, pool, client } = await devices(hv);
    const r = await front.grantRing([0x100, 0x101, 0x102, 0x103]);
    assert.deepEqual(r, { rc: -XenErrno.EINVAL, refs: [], failedIndex: 2 });
    assert.equal(hv.grants.size, 0);
    assert.equal(pool.available, 32);
    assert.equal(await client.read(front.errorPath), "22 granting access to ring page");
    assert.equal(await client.read(front.path("state")), String(XenbusState.Closing));
    // Too many pages for the allocator: ENOSPC, nothing granted.
    const small = await devices(new ScriptedHypervisor(), new GrantRefPool(2));
    assert.equal((await small.front.grantRing([1, 2, 3])).rc, -XenErrno.ENOSPC);
    assert.equal(small.pool.available, 2);
  });

  it("mapRing maps all refs at once; a bad ref unmaps the others and returns its GNTST status", async () => {
    const hv = new ScriptedHypervisor();
    const { front, back, client } = await devices(hv);
    const g = await front.grantRing([0x10, 0x11, 0x12]);
    assert.equal(g.rc, 0);
    const m = await back.mapRing(g.refs, true);
    assert.equal(m.status, GNTST_okay);
    assert.ok(!("failedIndex" in m));
    assert.equal(m.view, "view of 8,9,10");
    assert.equal(hv.calls.at(-1), `map 8,9,10 flags=${GNTMAP_host_map | GNTMAP_readonly}`);
    assert.deepEqual(await front.ungrantRing(g.refs), { ok: false, stillMapped: [8, 9, 10] });
    assert.equal(await back.unmapRing(m.handles), GNTST_okay);
    assert.equal(hv.mapped.size, 0);

    hv.badRefs.add(9);
    const bad = await back.mapRing([8, 9, 10]);
    assert.deepEqual(bad, { status: GNTST_bad_gntref, failedIndex: 1, leaked: false });
    assert.equal(hv.calls.at(-1), "unmap 4,5");
    assert.equal(hv.mapped.size, 0);
    assert.equal(await client.read(back.errorPath), "3 mapping in shared page 9 from domain 3");
    assert.equal(back.state, XenbusState.Closing);
  });

  it("reports a leak when the rollback unmap fails, and unmapRing errors go to the error node", async () => {
    const hv = new ScriptedHypervisor();
    const { front, back, client } = await devices(hv);
    const g = await front.grantRing([1, 2]);
    hv.badRefs.add(g.refs[1]!);
    hv.failUnmap = true;
    const bad = await back.mapRing(g.refs);
    assert.deepEqual(bad, { status: GNTST_bad_gntref, failedIndex: 1, leaked: true });
    assert.equal(await back.unmapRing([77]), GNTST_bad_handle);
    assert.equal(await client.read(back.errorPath), "4 unmapping ring handles 77 error -4");
  });

  it("event channels: alloc for the other end, bind its port, free; failures recorded", async () => {
    const hv = new ScriptedHypervisor();
    const { front, back, client } = await devices(hv);
    assert.deepEqual(await front.allocEvtchn(), { rc: 0, port: 5 });
    assert.deepEqual(await back.bindEvtchn(5), { rc: 0, port: 9 });
    assert.equal(await back.freeEvtchn(9), 0);
    assert.deepEqual(hv.calls, ["alloc 3 0", "bind 3 5", "close 9"]);
    assert.equal(await back.freeEvtchn(4), -XenErrno.EINVAL);
    assert.equal(await client.read(back.errorPath), "22 freeing event channel 4");
    assert.equal(back.state, XenbusState.Initialising); // devError only
    assert.equal((await back.bindEvtchn(0)).rc, -XenErrno.EINVAL);
    assert.equal(await client.read(back.errorPath), "22 binding to event channel 0 from domain 3");
    assert.equal(back.state, XenbusState.Closing);
  });

  it("without a hypervisor the helpers reject", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const p = await createVbd(client, 0, 3, 1);
    const d = await XenbusDevice.open({ store: client, self: 3, side: "frontend", nodename: p.front });
    await assert.rejects(d.allocEvtchn(), /no hypervisor/);
  });
});
