// Foreign-map permission per service identity across two host processes (docs/data-plane.md,
// "Foreign mappings: who may map"). Host A (a child process: hypervisor, page-server, an HVM guest)
// and host B (this process: a page-server and three probe workers named blkback, device-model and
// toolstack — each gets its service's link key from the runtime). The hypervisor's host decides as
// Xen's XSM would: blkback maps grants but not guest RAM, the device model maps its guest's ioreq
// pages and then (as that server's emulator) its RAM, the toolstack maps RAM. A request no worker
// signed, or signed with a key not its service's, is refused in host B. Refusals are privcmd's
// -EPERM, counted on both hosts, and no mapping is left once the guest is gone.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { GNTST_okay, XenErrno } from "@xensim/abi";
import { createGrpcCallClient, createInProcessCallClient } from "@xensim/bus";
import { loadPageServerProto, type LinkStatusReply__Output } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { findNatsServer, spawnJsonLinesChild, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { REPO_ROOT, serviceEntryPath } from "./harness.js";

const EPERM = -XenErrno.EPERM;

describe("foreign-map permission per service, across host processes", () => {
  const dir = tempDir("xensim-map-permission-");
  after(() => dir.cleanup());

  it(
    "blkback grants only, the device model its own guest, the toolstack anything; unsigned and forged refused",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 180_000 },
    async () => {
      const nats = await startNatsServer();
      const hostA = spawnJsonLinesChild(join(REPO_ROOT, "test", "dist", "fixtures", "map-host-a.js"), [
        nats.url,
      ]);
      let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
      const def = loadPageServerProto().xensim.pageserver.v1.PageServer.service;
      const psA: { client?: ReturnType<typeof createGrpcCallClient> } = {};
      try {
        const a = (await hostA.next("hv", 60_000)) as { hv: string; ps: string; domid: number; ref: number };
        psA.client = createGrpcCallClient(def, a.ps);
        const probes = ["blkback", "device-model", "toolstack"];
        const out = (s: string) => join(dir.path, `${s}.json`);
        const probe = join(REPO_ROOT, "test", "dist", "fixtures", "map-probe.js");
        hostB = await startHost({
          hostId: "hostB",
          nats: nats.url,
          services: [
            { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
            ...probes.map((name) => ({
              name,
              entry: probe,
              config: { hypervisor: a.hv, domid: a.domid, gfn: 5, ref: a.ref, out: out(name) },
            })),
          ],
          logLevel: "error",
        });
        await hostB.ready;
        await waitFor(() => probes.every((s) => existsSync(out(s))), {
          timeoutMs: 60_000,
          message: "every probe reported",
        });
        const r = Object.fromEntries(
          probes.map((s) => [s, JSON.parse(readFileSync(out(s), "utf8")) as Record<string, number | string>]),
        );
        console.log(`map permission results: ${JSON.stringify(r)}`);
        for (const s of probes) assert.equal(r[s]!.error, undefined, `${s}: ${r[s]!.error}`);
        // blkback: grants only.
        assert.equal(r.blkback!.ram, EPERM, "blkback may not map guest RAM");
        assert.equal(r.blkback!.grant, GNTST_okay, "blkback maps the guest's grant");
        assert.equal(r.blkback!.grantUnmap, GNTST_okay);
        // The device model: not before it is its guest's emulator, then yes, and not after.
        assert.equal(r["device-model"]!.ram, EPERM, "no ioreq server of its: not its guest");
        assert.equal(r["device-model"]!.create, 0);
        assert.equal(r["device-model"]!.ioreq, 0, "its ioreq server's pages");
        assert.equal(r["device-model"]!.ramAsEmulator, 0, "its guest's RAM, as the server's emulator");
        assert.equal(r["device-model"]!.ioreqUnmap, 0);
        assert.equal(r["device-model"]!.ramAfterRelease, EPERM, "its ioreq pages released: no longer");
        assert.equal(r["device-model"]!.destroy, 0);
        // The toolstack (dom0's control plane) maps RAM.
        assert.equal(r.toolstack!.ram, 0, "the toolstack maps the guest's RAM");
        // Unsigned (a thread the runtime did not start) and forged (a key not the service's).
        for (const s of probes) {
          assert.equal(r[s]!.unsigned, EPERM, `${s}: unsigned refused`);
          assert.equal(r[s]!.forged, EPERM, `${s}: forged refused`);
        }

        const psB = createInProcessCallClient(def, "page-server");
        const statsOf = async (c: { call: typeof psB.call }) =>
          (await c.call<object, LinkStatusReply__Output>("LinkStatus", {})).stats;
        const b = await statsOf(psB);
        assert.equal(Number(b.foreignMapsRefused), 6, "host B refused each unsigned and forged map");
        const statsA = await statsOf(psA.client!);
        // What is left mapped: each probe's read-only replica of the guest's grant table (local
        // grant checks), kept while the granter lives — released with it.
        assert.ok(Number(statsA.foreignMapsLive) <= probes.length, `live: ${statsA.foreignMapsLive}`);
        hostA.send("destroy");
        assert.deepEqual(await hostA.next("destroyed", 30_000), { destroyed: 0 });
        await waitFor(async () => Number((await statsOf(psA.client!)).foreignMapsLive) === 0, {
          timeoutMs: 20_000,
          message: "no foreign mapping left at the hypervisor's host",
        });
        // blkback's RAM map, the device model's two before and after its server
        assert.equal(Number(statsA.foreignMapsRefused), 3, "the hypervisor's host refused the roles' excess");
        assert.ok(Number(statsA.foreignMaps) >= 4, `maps made: ${statsA.foreignMaps}`);
      } finally {
        psA.client?.close();
        await hostB?.stop();
        await hostA.stop("stop");
        await nats.stop();
      }
    },
  );
});
