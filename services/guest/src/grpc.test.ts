// The guest runtime on a host with NATS: the Guest API over gRPC (uint64 fields as the loader gives
// them) and status events on NATS.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import { connectNatsBus, createGrpcCallClient, createInProcessCallClient } from "@xensim/bus";
import { buildGuest } from "@xensim/guest";
import {
  type GuestStatusJson,
  type GuestList__Output,
  loadGuestProto,
  loadHypervisorProto,
  loadXenstoreProto,
} from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { findNatsServer, startNatsServer, waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";
import { GUEST_SUBJECTS } from "@xensim/subjects";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");

describe("guest runtime over gRPC and NATS", { timeout: 60_000 }, () => {
  it(
    "Boot and List over gRPC; status on NATS",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "xensim-svc-guest-grpc-"));
      const nats = await startNatsServer();
      const closers: Array<() => unknown> = [
        () => rm(dir, { recursive: true, force: true }),
        () => nats.stop(),
      ];
      try {
        const host = await startHost({
          nats: nats.url,
          services: [
            { name: "hypervisor", entry: entry("hypervisor"), config: {} },
            { name: "xenstored", entry: entry("xenstored"), config: {} },
            { name: "blkback", entry: entry("blkback"), config: {} },
            { name: "guest", entry: entry("guest"), config: { stateDir: dir, statusIntervalMs: 250 } },
          ],
          sharedMemoryBytes: 128 << 20,
          logLevel: "warn",
        });
        closers.unshift(() => host.stop());
        await host.ready;
        const bus = await connectNatsBus({ servers: nats.url, name: "test" });
        closers.unshift(() => bus.close());
        const hv = createInProcessCallClient(
          loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
          "hypervisor",
        );
        const xsCalls = createInProcessCallClient(
          loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
          "xenstored",
        );
        const addr = host.services.get("guest")?.grpcAddress;
        assert.ok(addr, "the guest runtime serves gRPC");
        const guest = createGrpcCallClient(loadGuestProto().xensim.guest.v1.Guest.service, addr);
        closers.unshift(
          () => hv.close(),
          () => xsCalls.close(),
          () => guest.close(),
        );
        const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
        const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
        closers.unshift(() => xs0.close());
        const seen: GuestStatusJson[] = [];
        bus.subscribe(GUEST_SUBJECTS.statusAll, {
          callback: (m) => seen.push(JSON.parse(new TextDecoder().decode(m.data)) as GuestStatusJson),
        });

        const g = await buildGuest(xc0, xs0, {
          name: "remote",
          memoryMib: 16,
          xensim: { workload: "rw=randread,bs=4k,iodepth=4,runtime=20" },
        });
        const dirs = vbdDirectories({ frontend: g.domid, vdev: "xvda", params: "memory:size=8M" });
        await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
        assert.deepEqual(await guest.call("Boot", { domid: g.domid, name: "remote" }), { rc: 0, error: "" });
        await waitFor(() => seen.some((s) => s.domid === g.domid && s.workload.iops > 0), {
          timeoutMs: 15_000,
          message: "status with IOPS on NATS",
        });
        const l = await guest.call<object, GuestList__Output>("List", {});
        const s = l.guests[0]!;
        assert.equal(s.name, "remote");
        assert.equal(s.disks[0]!.sectors, String((8 << 20) / 512), "uint64 as a string over gRPC");
        assert.ok(Number(s.workload!.ios) > 0);
        assert.deepEqual(await guest.call("Halt", { domid: g.domid }), { rc: 0 });
      } finally {
        for (const c of closers) await Promise.resolve(c()).catch(() => {});
      }
    },
  );
});
