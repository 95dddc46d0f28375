// Host process A of the distributed block placement: hypervisor, xenstored and page-server as worker
// threads over NATS, and a guest on A's memory whose blkfronts talk to a blkback in another host
// process. Nothing in the guest knows: what it writes and its kicks reach the backend over A's link
// (docs/data-plane.md). Used by `xensim bench rings --placement distributed` and the cross-host
// block scenario in test/.
import { applyVbdDirectories, type LibxlVbdSpec, type VbdDirectories, vbdDirectories } from "@xensim/libxl";
import { connectNatsBus, createInProcessCallClient } from "@xensim/bus";
import { buildGuest, GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";

export interface FrontendHostOptions {
  /**
   * The guest runs in another host process with this id (the three-host placement): the domain is
   * built homed there and no kernel runs here; `kernel` and `xs` are then undefined.
   */
  guestHost?: string;
  nats: string;
  entries: { hypervisor: string; xenstored: string; pageServer: string };
  guestName: string;
  guestMemoryMib: number;
  sharedMemoryBytes?: number;
  /** xenstored's config (e.g. a `stateDir`, so that a restarted xenstored keeps its tree). */
  xenstoredConfig?: Record<string, unknown>;
}

export interface FrontendHost {
  host: HostHandle;
  /** gRPC addresses host B's blkback is configured with. */
  hypervisorAddress: string;
  xenstoredAddress: string;
  domid: number;
  /** What the guest kernel needs to boot (in another host process in the three-host placement). */
  guest: { storeGfn: number; storePort: number; ramPages: number };
  kernel: GuestKernel | undefined;
  /** The guest's xenstore (over its ring page). */
  xs: XenstoreClient | undefined;
  /** dom0's xenstore (the toolstack's part: device directories of other classes). */
  xs0: XenstoreClient;
  /** Writes the vbd's directories as libxl does (as dom0). */
  addVbd(spec: Omit<LibxlVbdSpec, "frontend">): Promise<VbdDirectories>;
  removeVbd(dirs: VbdDirectories): Promise<void>;
  stop(): Promise<void>;
}

export async function startFrontendHost(options: FrontendHostOptions): Promise<FrontendHost> {
  const host = await startHost({
    hostId: "hostA",
    nats: options.nats,
    services: [
      { name: "hypervisor", entry: options.entries.hypervisor, config: {} },
      { name: "xenstored", entry: options.entries.xenstored, config: options.xenstoredConfig ?? {} },
      { name: "page-server", entry: options.entries.pageServer, config: {} },
    ],
    sharedMemoryBytes: options.sharedMemoryBytes ?? 1 << 30,
    logLevel: process.env.XENSIM_LOG_LEVEL ?? "warn",
  });
  await host.ready;
  const bus = await connectNatsBus({ servers: options.nats, name: "hostA-guest" });
  const hv = createInProcessCallClient(
    loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
    "hypervisor",
  );
  const xsCalls = createInProcessCallClient(
    loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
    "xenstored",
  );
  const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
  const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
  const g = await buildGuest(xc0, xs0, {
    name: options.guestName,
    memoryMib: options.guestMemoryMib,
    ...(options.guestHost ? { homeHost: options.guestHost } : {}),
  });
  let kernel: GuestKernel | undefined;
  let xs: XenstoreClient | undefined;
  if (!options.guestHost) {
    const xc = new XenCtrl({ domid: g.domid, calls: hv, store: host.sharedMemory });
    kernel = new GuestKernel({ domid: g.domid, xc, ramPages: g.ramPages, slowScanMs: 50 });
    xs = await kernel.connectXenstore(g.storeGfn, g.storePort);
  }
  return {
    host,
    hypervisorAddress: host.services.get("hypervisor")!.grpcAddress!,
    xenstoredAddress: host.services.get("xenstored")!.grpcAddress!,
    domid: g.domid,
    guest: { storeGfn: g.storeGfn, storePort: g.storePort, ramPages: g.ramPages },
    kernel,
    xs,
    xs0,
    async addVbd(spec) {
      const dirs = vbdDirectories({ ...spec, frontend: g.domid });
      await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
      return dirs;
    },
    async removeVbd(dirs) {
      await xs0.rm(dirs.frontendPath);
      await xs0.rm(dirs.backendPath);
    },
    async stop() {
      await kernel?.close();
      await xs0.close();
      for (const c of [hv, xsCalls]) c.close();
      await bus.close();
      await host.stop();
    },
  };
}
