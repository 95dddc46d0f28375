// Host process G of `xensim bench rings --placement three-hosts`: the guest alone, with a page-server
// (its link). Its domain was built by host A (the hypervisor's) homed here: its memory is replicated
// in this host's page store, its events delivered here, and its XenCtrl is the link adapter
// (`hypervisorHost`); xenstore over its ring page, blkfront over the link to host B's blkback.
// argv[2]: JSON {nats, pageServer (entry), hv (A's hypervisor gRPC), hypervisorHost, domid, guest}.
// stdout: JSON lines — {ready} once xenstore is up; {done: pages, ...} per "run <json>"; "stop".
import { createInterface } from "node:readline";
import { createGrpcCallClient } from "@xensim/bus";
import { GuestKernel } from "@xensim/guest";
import { loadHypervisorProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { type RingsHostARun, runOnVbd } from "./rings-guest-run.js";

const arg = JSON.parse(process.argv[2]!) as {
  nats: string;
  pageServer: string;
  hv: string;
  hypervisorHost: string;
  domid: number;
  guest: { storeGfn: number; storePort: number; ramPages: number };
};
const host = await startHost({
  hostId: "hostG",
  nats: arg.nats,
  services: [{ name: "page-server", entry: arg.pageServer, config: {} }],
  sharedMemoryBytes: 1 << 30,
  logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
});
await host.ready;
const calls = createGrpcCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, arg.hv);
const xc = new XenCtrl({
  domid: arg.domid,
  calls,
  store: host.sharedMemory,
  hypervisorHost: arg.hypervisorHost,
});
const kernel = new GuestKernel({ domid: arg.domid, xc, ramPages: arg.guest.ramPages, slowScanMs: 50 });
const xs = await kernel.connectXenstore(arg.guest.storeGfn, arg.guest.storePort);

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    if (l.startsWith("run ")) {
      const c = JSON.parse(l.slice(4)) as RingsHostARun & { devid: number };
      try {
        console.log(
          JSON.stringify({ done: c.pages, result: await runOnVbd(kernel, xs, c.devid, c, "host G") }),
        );
      } catch (e) {
        console.log(JSON.stringify({ done: c.pages, error: e instanceof Error ? e.message : String(e) }));
      }
    } else if (l === "stop") {
      await kernel.close().catch(() => {});
      xc.close();
      calls.close();
      await host.stop();
      process.exit(0);
    }
  })();
});
console.log(JSON.stringify({ ready: true }));
