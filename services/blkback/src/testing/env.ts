// A host process for blkback tests: hypervisor + xenstored (+ blkback as a worker, unless the test
// runs the driver itself), dom0's xenstore and XenCtrl clients, and guest domains with libxl-style
// vbd directories.
import { applyVbdDirectories, type LibxlVbdSpec, vbdDirectories } from "@xensim/libxl";
import { type CallClient, createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { GuestEvents } from "./frontend.js";

const svc = (name: string) => new URL(`../../../${name}/dist/main.js`, import.meta.url);

export interface Guest {
  domid: number;
  xc: XenCtrl;
  events: GuestEvents;
}

export interface Env {
  host: HostHandle;
  bus: EventBus;
  xs: XenstoreClient;
  xc0: XenCtrl;
  hvDef: ReturnType<typeof loadHypervisorProto>["xensim"]["hypervisor"]["v1"]["Hypervisor"]["service"];
  guest(memoryMib?: number): Promise<Guest>;
  addVbd(spec: LibxlVbdSpec): Promise<ReturnType<typeof vbdDirectories>>;
  close(): Promise<void>;
}

export async function startEnv(opts: { blkback?: Record<string, unknown> | false } = {}): Promise<Env> {
  const services = [
    { name: "hypervisor", entry: svc("hypervisor"), config: {} },
    { name: "xenstored", entry: svc("xenstored"), config: {} },
  ];
  if (opts.blkback !== false)
    services.push({ name: "blkback", entry: svc("blkback"), config: opts.blkback ?? {} });
  const host = await startHost({ services, logLevel: "warn", sharedMemoryBytes: 128 * 1024 * 1024 });
  await host.ready;
  const closers: (() => unknown)[] = [];
  const bus = createInProcessBus({ name: host.busName });
  const hvDef = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
  const xsCalls = createInProcessCallClient(
    loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
    "xenstored",
  );
  const hv0 = createInProcessCallClient(hvDef, "hypervisor");
  const xs = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
  const xc0 = new XenCtrl({ domid: 0, calls: hv0, store: host.sharedMemory, bus });
  closers.push(
    () => xc0.close(),
    () => xs.close(),
    () => xsCalls.close(),
    () => hv0.close(),
  );
  const guestCalls: CallClient[] = [];
  return {
    host,
    bus,
    xs,
    xc0,
    hvDef,
    async guest(memoryMib = 32) {
      const { rc, domid } = await xc0.domainCreate({ memoryMib, maxGrantFrames: 64 });
      if (rc !== 0) throw new Error(`domainCreate: ${rc}`);
      await xc0.domainUnpause(domid);
      const home = `/local/domain/${domid}`;
      await xs.mkdir(home);
      await xs.setPerms(home, [`n${domid}`, "r0"]);
      await xs.mkdir(`${home}/device`);
      await xs.mkdir(`${home}/device/vbd`);
      const c = createInProcessCallClient(hvDef, "hypervisor");
      guestCalls.push(c);
      const xc = new XenCtrl({ domid, calls: c, store: host.sharedMemory, bus });
      // A grant table big enough for 64-page rings on several queues (32 frames = 16384 refs).
      const t = await xc.gnttabSetupTable(domid, 32);
      if (t.status !== 0) throw new Error(`gnttabSetupTable: ${t.status}`);
      const events = new GuestEvents(xc, domid);
      closers.push(
        () => xc.close(),
        () => events.close(),
      );
      return { domid, xc, events };
    },
    async addVbd(spec) {
      const dirs = vbdDirectories(spec);
      await xs.transaction((tx) => applyVbdDirectories(tx, dirs));
      return dirs;
    },
    async close() {
      for (const c of closers.reverse()) await c();
      for (const c of guestCalls) c.close();
      await host.stop();
      await bus.close();
    },
  };
}
