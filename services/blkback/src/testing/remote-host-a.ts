// Host process A of remote.test.ts: hypervisor, xenstored and page-server, and a guest domain (in
// this process, on A's memory) with a hand-driven frontend; blkback runs in host B (the test), and
// the ring and data pages travel on the link between the two page-servers.
// stdout: JSON lines — {hv, xs} when ready, {done, ok, rounds, error?} after the I/O script.
// stdin: "go" (create the vbd, connect, run the script), "stop".
import { createInterface } from "node:readline";
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import { connectNatsBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";
import { GuestEvents, TestFrontend } from "./frontend.js";

const natsUrl = process.argv[2]!;
const svc = (name: string) => new URL(`../../../${name}/dist/main.js`, import.meta.url);
const host = await startHost({
  hostId: "hostA",
  nats: natsUrl,
  services: [
    { name: "hypervisor", entry: svc("hypervisor"), config: {} },
    { name: "xenstored", entry: svc("xenstored"), config: {} },
    { name: "page-server", entry: svc("page-server"), config: {} },
  ],
  sharedMemoryBytes: 64 * 1024 * 1024,
  logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
});
await host.ready;
const bus = await connectNatsBus({ servers: natsUrl, name: "hostA-guest" });
const hvDef = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
const hv = createInProcessCallClient(hvDef, "hypervisor");
const xsCalls = createInProcessCallClient(
  loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
  "xenstored",
);
const xs = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
const { domid } = await xc0.domainCreate({ memoryMib: 16, maxGrantFrames: 64 });
await xc0.domainUnpause(domid);
await xs.mkdir(`/local/domain/${domid}`);
await xs.setPerms(`/local/domain/${domid}`, [`n${domid}`, "r0"]);
const gx = new XenCtrl({ domid, calls: hv, store: host.sharedMemory });
await gx.gnttabSetupTable(domid, 32);
const events = new GuestEvents(gx, domid);

function pattern(bytes: number, seed: number): Uint8Array {
  const a = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) a[i] = (i * 11 + seed * 29 + (i >> 9)) & 0xff;
  return a;
}

async function script(): Promise<{ ok: boolean; rounds: number; error?: string }> {
  const dirs = vbdDirectories({ frontend: domid, vdev: "xvda", params: "memory:size=4M" });
  await xs.transaction((tx) => applyVbdDirectories(tx, dirs));
  const f = await TestFrontend.connect({
    xs,
    xc: gx,
    events,
    domid,
    frontendPath: dirs.frontendPath,
    backendPath: dirs.backendPath,
    gfnBase: 0x100,
    refBase: 16,
    ringPageOrder: 2,
    queues: 2,
    dataPages: 20,
    remote: {},
  });
  let rounds = 0;
  try {
    for (let r = 0; r < 20; r++) {
      const q = r % 2;
      const data = pattern(4 * 4096, r);
      const sector = 64 * r;
      const w = await f.write(q, sector, data);
      if (w !== 0) return { ok: false, rounds, error: `write status ${w} in round ${r}` };
      const got = await f.read(q, sector, 4);
      if (got.status !== 0) return { ok: false, rounds, error: `read status ${got.status} in round ${r}` };
      if (!got.data.every((b, i) => b === data[i]))
        return { ok: false, rounds, error: `data differ in round ${r}` };
      // An indirect write/read of 16 pages too.
      if (r % 5 === 0) {
        const big = pattern(16 * 4096, r + 100);
        if ((await f.write(q, 4096 + sector, big, { indirect: true })) !== 0)
          return { ok: false, rounds, error: "indirect write" };
        const back = await f.read(q, 4096 + sector, 16, { indirect: true });
        if (!back.data.every((b, i) => b === big[i])) return { ok: false, rounds, error: "indirect data" };
      }
      rounds++;
    }
    // A burst in flight at once: most responses are pushed without a kick, and must still reach
    // our replica (blkback publishes them).
    const burst: Promise<number>[] = [];
    for (let i = 0; i < 24; i++) {
      f.fillData(i % 16, pattern(4096, 500 + (i % 16)));
      burst.push(f.rw(0, 1 /* WRITE */, 6144 + 8 * i, [{ page: i % 16, first: 0, last: 7 }]));
    }
    const st = await Promise.all(burst).catch((e: unknown) => {
      const ring = f.rings[0]!;
      const v = ring.view;
      console.error(
        `A ring0: req_prod ${v.getU32(0)} req_event ${v.getU32(4)} rsp_prod ${v.getU32(8)} rsp_event ${v.getU32(12)} pvt ${ring.reqProdPvt} rsp_cons ${ring.rspCons}`,
      );
      throw e;
    });
    if (st.some((x) => x !== 0)) return { ok: false, rounds, error: `burst statuses ${st.join(",")}` };
    for (let i = 0; i < 24; i += 5) {
      const got = await f.read(0, 6144 + 8 * i, 1);
      const want = pattern(4096, 500 + (i % 16));
      if (!got.data.every((b, k) => b === want[k])) return { ok: false, rounds, error: `burst data ${i}` };
    }
    return { ok: true, rounds };
  } finally {
    f.close();
  }
}

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    if (l === "go") {
      try {
        console.log(JSON.stringify({ done: true, ...(await script()) }));
      } catch (e) {
        console.log(
          JSON.stringify({ done: true, ok: false, error: e instanceof Error ? e.message : String(e) }),
        );
      }
    } else if (l === "stop") {
      events.close();
      gx.close();
      xc0.close();
      await xs.close();
      for (const c of [hv, xsCalls]) c.close();
      await bus.close();
      await host.stop();
      process.exit(0);
    }
  })();
});
console.log(
  JSON.stringify({
    hv: host.services.get("hypervisor")!.grpcAddress,
    xs: host.services.get("xenstored")!.grpcAddress,
  }),
);
