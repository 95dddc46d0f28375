// Host process B of `xensim bench hypervisor`'s cross-host rows: a page-server (the link) and dom0's
// XenCtrl with the hypervisor in host A (`hypervisorHost`). It answers events on a channel bound to
// a guest of host A (each event → a kick back, both over the link), maps and unmaps that guest's
// grants over the link and times it, and echoes NATS pings (the event plane's floor, same run).
// argv[2]: JSON { nats, hv (A's hypervisor gRPC address), hostA, pageServer (entry) }.
// stdin (JSON lines): {bind: {domid, port, vcpu}} → {bound: port}; {grants: {domid, refs, durationMs}}
// → {grants: GrantFigures-like rows}; "stop". stdout: {ready: true} first.
import { createInterface } from "node:readline";
import { GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import { connectNatsBus, createGrpcCallClient } from "@xensim/bus";
import { loadHypervisorProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { measure } from "./stats.js";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  nats: string;
  hv: string;
  hostA: string;
  pageServer: string;
};
const host = await startHost({
  hostId: "benchB",
  nats: args.nats,
  services: [{ name: "page-server", entry: args.pageServer, config: {} }],
  sharedMemoryBytes: 64 << 20,
  logLevel: "warn",
});
await host.ready;
const calls = createGrpcCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, args.hv);
const xc = new XenCtrl({ domid: 0, calls, store: host.sharedMemory, hypervisorHost: args.hostA });
const bus = await connectNatsBus({ servers: args.nats, name: "bench-hv-peer" });
bus.subscribe("bench.hv.ping", { callback: (m) => bus.publish("bench.hv.pong", m.data) });
await bus.flush();

const out = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);

async function bind(q: { domid: number; port: number; vcpu: number }): Promise<number> {
  const b = await xc.evtchnBindInterdomain(q.domid, q.port);
  if (b.rc !== 0) throw new Error(`bind: rc ${b.rc}`);
  const rc = await xc.evtchnBindVcpu(b.port, q.vcpu);
  if (rc !== 0) throw new Error(`bind_vcpu: rc ${rc}`);
  xc.waitForEvents(
    0,
    (p) => {
      if (p === b.port) xc.kick(b.port);
    },
    { vcpu: q.vcpu, slowScanMs: 60_000 },
  );
  return b.port;
}

async function grants(q: { domid: number; refs: number[]; durationMs: number }) {
  const rows = [];
  for (const n of [1, q.refs.length]) {
    const these = q.refs.slice(0, n);
    const figures = await measure(q.durationMs, async () => {
      const m = await xc.gnttabMapGrantRefs(q.domid, these, GNTMAP_host_map);
      const handles = m.results.map((r) => {
        if (r.status !== GNTST_okay) throw new Error(`map status ${r.status}`);
        return r.handle;
      });
      const st = await xc.gnttabUnmap(handles);
      if (st.some((s) => s !== GNTST_okay)) throw new Error(`unmap status ${st.join(",")}`);
    });
    rows.push({ placement: "link", batch: n, figures, grants_per_s: figures.ops_per_s * n });
  }
  return rows;
}

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    try {
      if (l === "stop") {
        xc.close();
        calls.close();
        await bus.close();
        await host.stop();
        process.exit(0);
      }
      const q = JSON.parse(l) as {
        bind?: { domid: number; port: number; vcpu: number };
        grants?: { domid: number; refs: number[]; durationMs: number };
      };
      if (q.bind) out({ bound: await bind(q.bind) });
      if (q.grants) out({ grants: await grants(q.grants) });
    } catch (err) {
      out({ error: err instanceof Error ? err.message : String(err) });
    }
  })();
});
out({ ready: true });
