// An embedded host with the block path (benchmarks and the block scenarios in test/): hypervisor,
// xenstored and blkback in worker threads of this process; dom0's XenCtrl and xenstore client here;
// guests built by dom0 with a GuestKernel each, and vbds written the way libxl writes them.
import { createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { applyVbdDirectories, type LibxlVbdSpec, vbdDirectories } from "@xensim/libxl";
import { buildGuest, GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";

export interface BlkHost {
  host: HostHandle;
  bus: EventBus;
  xc0: XenCtrl;
  xs0: XenstoreClient;
  /** Builds a guest (domain, store ring, home) and boots its kernel with xenstore over the ring. */
  guest(
    name: string,
    memoryMib?: number,
  ): Promise<{ kernel: GuestKernel; xs: XenstoreClient; domid: number }>;
  /** Writes a vbd's frontend and backend directories as libxl does; returns its devid. */
  addVbd(spec: LibxlVbdSpec): Promise<number>;
  /** Removes them again (libxl after the closing handshake; each domain has a node quota). */
  removeVbd(frontend: number, devid: number): Promise<void>;
  stop(): Promise<void>;
}

/** Where the services' compiled entry points are (they are started by path, never imported). */
export interface BlkServiceEntries {
  hypervisor: string;
  xenstored: string;
  blkback: string;
}

export async function startBlkHost(
  entries: BlkServiceEntries,
  blkbackConfig: Record<string, unknown> = {},
  opts: { sharedMemoryBytes?: number; logLevel?: string } = {},
): Promise<BlkHost> {
  const host = await startHost({
    services: [
      { name: "hypervisor", entry: entries.hypervisor, config: {} },
      { name: "xenstored", entry: entries.xenstored, config: {} },
      { name: "blkback", entry: entries.blkback, config: blkbackConfig },
    ],
    sharedMemoryBytes: opts.sharedMemoryBytes ?? 512 << 20,
    logLevel: opts.logLevel ?? "warn",
  });
  const closers: Array<() => unknown> = [];
  try {
    await host.ready;
    const bus = createInProcessBus({ name: host.busName });
    const hvDef = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
    const hv = createInProcessCallClient(hvDef, "hypervisor");
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    closers.push(
      () => bus.close(),
      () => hv.close(),
      () => xsCalls.close(),
    );
    const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
    closers.unshift(() => xs0.close());
    const kernels: GuestKernel[] = [];
    return {
      host,
      bus,
      xc0,
      xs0,
      async guest(name, memoryMib = 64) {
        const g = await buildGuest(xc0, xs0, { name, memoryMib });
        const xc = new XenCtrl({ domid: g.domid, calls: hv, store: host.sharedMemory, bus });
        const kernel = new GuestKernel({ domid: g.domid, xc, ramPages: g.ramPages });
        kernels.push(kernel);
        const xs = await kernel.connectXenstore(g.storeGfn, g.storePort);
        return { kernel, xs, domid: g.domid };
      },
      async addVbd(spec) {
        const dirs = vbdDirectories(spec);
        await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
        return dirs.devid;
      },
      async removeVbd(frontend, devid) {
        await xs0.rm(`/local/domain/${frontend}/device/vbd/${devid}`);
        await xs0.rm(`/local/domain/0/backend/vbd/${frontend}/${devid}`);
      },
      async stop() {
        for (const k of kernels.reverse()) await k.close().catch(() => {});
        for (const c of closers) await Promise.resolve(c()).catch(() => {});
        await host.stop();
      },
    };
  } catch (err) {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
    await host.stop();
    throw err;
  }
}
