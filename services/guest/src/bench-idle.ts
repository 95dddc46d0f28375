// How many idle guests one host process holds: an embedded host (hypervisor, xenstored, guest
// runtime as worker threads) and a toolstack here; guests (no disks, workload "idle") are built and
// booted in steps, and after each step one JSON line {guests, rssBytes, heapUsed, ...} is printed,
// until the process's RSS reaches the limit (default 2 GiB) or the cap.
//
//   node services/guest/dist/bench-idle.js [--max 2000] [--step 100] [--memory-mib 1] [--rss-limit-mib 2048]
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { buildGuest } from "@xensim/guest";
import {
  type GuestList__Output,
  loadGuestProto,
  loadHypervisorProto,
  loadXenstoreProto,
} from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";

const { values } = parseArgs({
  options: {
    max: { type: "string", default: "2000" },
    step: { type: "string", default: "100" },
    "memory-mib": { type: "string", default: "1" },
    "rss-limit-mib": { type: "string", default: "2048" },
    "status-interval-ms": { type: "string", default: "1000" },
  },
});
const max = Number(values.max);
const step = Number(values.step);
const memoryMib = Number(values["memory-mib"]);
const rssLimit = Number(values["rss-limit-mib"]) * 1024 * 1024;

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");

async function main(): Promise<void> {
  const host = await startHost({
    services: [
      { name: "hypervisor", entry: entry("hypervisor"), config: {} },
      { name: "xenstored", entry: entry("xenstored"), config: {} },
      {
        name: "guest",
        entry: entry("guest"),
        config: { nbd: { listen: "none" }, statusIntervalMs: Number(values["status-interval-ms"]) },
      },
    ],
    // Guests' RAM is only touched where used (the store page): reserve the address space.
    sharedMemoryBytes: Math.min(4096, max * memoryMib + 64) * 1024 * 1024,
    logLevel: "warn",
  });
  const closers: Array<() => unknown> = [() => host.stop()];
  try {
    await host.ready;
    const bus = createInProcessBus({ name: host.busName });
    const hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    const guest = createInProcessCallClient(loadGuestProto().xensim.guest.v1.Guest.service, "guest");
    closers.unshift(
      () => bus.close(),
      () => hv.close(),
      () => xsCalls.close(),
      () => guest.close(),
    );
    const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "bench-idle" });
    closers.unshift(() => xs0.close());
    const t0 = performance.now();
    let n = 0;
    for (;;) {
      const target = Math.min(max, n + step);
      const stepStart = performance.now();
      for (; n < target; n++) {
        const name = `idle-${n}`;
        const g = await buildGuest(xc0, xs0, { name, memoryMib, xensim: { workload: "idle" } });
        const r = await guest.call<object, { rc: number; error: string }>("Boot", { domid: g.domid, name });
        if (r.rc !== 0) throw new Error(`boot ${name}: rc ${r.rc} ${r.error}`);
      }
      const list = await guest.call<object, GuestList__Output>("List", {});
      const mem = process.memoryUsage();
      console.log(
        JSON.stringify({
          guests: n,
          running: list.guests.filter((g) => g.state === "running").length,
          rssBytes: mem.rss,
          heapUsed: mem.heapUsed,
          external: mem.external,
          arrayBuffers: mem.arrayBuffers,
          rssPerGuest: Math.round(mem.rss / n),
          bootMsPerGuest: Math.round(((performance.now() - stepStart) / step) * 100) / 100,
          elapsedS: Math.round((performance.now() - t0) / 100) / 10,
        }),
      );
      if (n >= max || mem.rss >= rssLimit) break;
    }
  } finally {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
