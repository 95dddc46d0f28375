// End to end: hypervisor + xenstored + blkback in one host process, a guest domain with libxl-style
// vbd directories, and a hand-driven frontend in the guest doing I/O through the rings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp, XenbusState } from "@xensim/abi";
import { type Env, startEnv } from "./testing/env.js";
import { TestFrontend } from "./testing/frontend.js";

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return a;
}

describe("blkback service", () => {
  let env: Env;
  let guest: { domid: number; xc: Env["xc0"] };
  let gfn = 0x100;
  let ref = 16;
  let devSeq = 0;

  before(async () => {
    env = await startEnv();
    guest = await env.guest(32);
  });
  after(async () => {
    await env?.close();
  });

  async function device(
    fe: Partial<Parameters<typeof TestFrontend.connect>[0]> = {},
    vbd: { params?: string; mode?: "r" | "w" } = {},
    waitConnected = true,
  ): Promise<{ f: TestFrontend; backendPath: string; frontendPath: string }> {
    const devid = 51712 + 16 * devSeq++;
    const dirs = await env.addVbd({
      frontend: guest.domid,
      vdev: String(devid),
      params: vbd.params ?? "memory:size=4M",
      ...(vbd.mode ? { mode: vbd.mode } : {}),
    });
    const order = fe.ringPageOrder ?? 0;
    const queues = fe.queues ?? 1;
    const dataPages = fe.dataPages ?? 24;
    const f = await TestFrontend.connect(
      {
        xs: env.xs,
        xc: guest.xc,
        domid: guest.domid,
        frontendPath: dirs.frontendPath,
        backendPath: dirs.backendPath,
        gfnBase: gfn,
        refBase: ref,
        ...fe,
        dataPages,
      },
      waitConnected,
    );
    gfn += queues * 2 ** order + dataPages;
    ref += queues * 2 ** order + dataPages;
    return { f, backendPath: dirs.backendPath, frontendPath: dirs.frontendPath };
  }

  it("connects, writes and reads back, and exports per-ring metrics", async () => {
    const { f, backendPath } = await device();
    assert.equal(await env.xs.read(`${backendPath}/state`), String(XenbusState.Connected));
    assert.equal(await env.xs.read(`${backendPath}/sectors`), String((4 * 1024 * 1024) / 512));
    assert.equal(await env.xs.read(`${backendPath}/max-ring-page-order`), "6");
    const data = pattern(8 * 4096, 1);
    assert.equal(await f.write(0, 64, data), BLKIF_RSP_OKAY);
    const r = await f.read(0, 64, 8);
    assert.equal(r.status, BLKIF_RSP_OKAY);
    assert.deepEqual(r.data, data);
    const m = (await env.host.metrics()).body;
    assert.match(m, /blkback_io_completed_total\{[^}]*domid="\d+"[^}]*\} [1-9]/);
    assert.match(m, /blkback_notifications_sent_total\{[^}]*\} [1-9]/);
    assert.match(m, /blkback_io_latency_seconds_count\{[^}]*\} [1-9]/);
    assert.match(m, /blkback_ring_outstanding_requests\{[^}]*\} 0/);
    f.close();
  });
});
