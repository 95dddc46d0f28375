// The data-plane link authenticated (issues 10 and 14): with the credentials of `xensim keys init`
// the page-servers' link runs mutual TLS, each peer's host taken from its certificate. Host A (this
// process: hypervisor, xenstored, page-server, guest runtime, toolstack) and host B (`xensim up
// --keys … --services page-server,blkback`, its own process) run a guest's crc32c write-verify job
// over that link while strangers knock on host A's link listener: a plain TCP peer sending a HELLO,
// a TLS peer with no certificate, one with a certificate of another CA, blkback's own certificate,
// and host B's page-server certificate under a HELLO claiming another host. Each is refused and
// counted by reason, none reaches the engine, and the job completes with nothing lost or stale.
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import { connect as netConnect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { createInProcessCallClient } from "@xensim/bus";
import { encodeHello, LINK_VERSION } from "@xensim/link";
import { type LinkStatusReply__Output, loadPageServerProto } from "@xensim/proto";
import { initKeys, loadCredentials } from "@xensim/security";
import { findNatsServer, tempDir, waitFor } from "@xensim/testkit";
import type { XensimProcess } from "./harness.js";
import { GUEST_SUBJECTS } from "@xensim/subjects";
import { backendHostUp, connectAdminBus, spawnBackendHost, startCredentialedHostA } from "./two-hosts.js";

/** Resolves on `name` (an 'error' on the way is expected here, not a rejection). */
const event = (s: Socket, name: string): Promise<void> => new Promise((r) => s.once(name, () => r()));

type Status = {
  domid: number;
  workload?: { phase: string; ios: number | string; errors: number; verifyFailures: number };
};

describe("the link with credentials: mutual TLS, the peer's host from its certificate", () => {
  const dir = tempDir("xensim-link-auth-");
  after(() => dir.cleanup());

  it(
    "strangers are refused and counted; a cross-host write-verify runs over the authenticated link",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 240_000 },
    async () => {
      const a = await startCredentialedHostA({
        dir: dir.path,
        sharedMemoryBytes: 512 << 20,
        logLevel: "error",
      });
      const { keys, nats, hostA, auth, api } = a;
      const other = join(dir.path, "other-ca");
      await initKeys(other, { hosts: { hostB: ["page-server"] } });
      const bus = await connectAdminBus(keys, nats.url);
      // host A's page-server, called in this process (no identity: the host's own thread)
      const ps = createInProcessCallClient(
        loadPageServerProto().xensim.pageserver.v1.PageServer.service,
        "page-server",
      );
      const status = () => ps.call<object, LinkStatusReply__Output>("LinkStatus", {});
      const stat = async (k: string) => Number((await status()).stats[k] ?? 0);
      let hostB: XensimProcess | undefined;
      try {
        const linkAddress = (await status()).tcp;
        const [linkHost, linkPort] = [
          linkAddress.slice(0, linkAddress.lastIndexOf(":")),
          Number(linkAddress.slice(linkAddress.lastIndexOf(":") + 1)),
        ];
        assert.equal(await stat("tls"), 1, "host A's link runs TLS");
        hostB = spawnBackendHost({
          nats: nats.url,
          stateDir: join(dir.path, "hostB"),
          keys,
          hypervisor: hostA.services.get("hypervisor")!.grpcAddress!,
          xenstored: hostA.services.get("xenstored")!.grpcAddress!,
        });
        await backendHostUp(hostB, 30_000);
        const statuses: Status[] = [];
        bus.subscribe(GUEST_SUBJECTS.statusAll, {
          callback: (m) => statuses.push(JSON.parse(new TextDecoder().decode(m.data)) as Status),
        });
        await bus.flush();

        const res = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json", ...auth },
          body: JSON.stringify({
            config: [
              'name = "authed"',
              "memory = 64",
              "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=16M' ]",
              'xensim_workload = "rw=randrw,bs=4k,iodepth=8,size=8m,runtime=6,verify=crc32c"',
              'xensim_blkfront = "ring-page-order=1,queues=2"',
            ].join("\n"),
            filename: "authed.cfg",
          }),
        });
        const created = (await res.json()) as { domid: number };
        assert.equal(res.status, 201, JSON.stringify(created));
        const domid = created.domid;
        const latest = () => statuses.filter((s) => s.domid === domid).at(-1);
        await waitFor(() => Number(latest()?.workload?.ios ?? 0) > 20, {
          timeoutMs: 60_000,
          message: "guest I/O through host B over the TLS link",
        });
        assert.ok((await stat("authenticatedHellos")) >= 1, "host B's page-server authenticated at HELLO");
        assert.ok(
          (await status()).peers.some((p) => p.host === "hostB"),
          "host B is a peer of host A's link",
        );

        // Strangers knock while the job runs; each connection is closed by host A.
        const closed = async (s: Socket) => {
          s.on("error", () => {});
          s.resume();
          await Promise.race([event(s, "close"), new Promise((r) => setTimeout(r, 10_000))]);
          assert.ok(s.destroyed || s.readableEnded, "host A closed the connection");
        };
        const hello = (hostId: string) =>
          encodeHello({
            version: LINK_VERSION,
            hostId,
            epoch: (BigInt(Date.now()) << 16n) + 7n,
            peerEpoch: 0n,
            lastReceived: 0,
            identity: new Uint8Array(0),
          });
        const ca = loadCredentials(keys, { host: "hostB", service: "page-server" }).ca;
        const tlsPeer = async (cred: { cert: string; key: string } | undefined, hostId: string) => {
          const s = tlsConnect({
            port: linkPort,
            host: linkHost,
            ca,
            ...(cred ?? {}),
            checkServerIdentity: () => undefined,
          });
          s.on("error", () => {});
          await Promise.race([event(s, "secureConnect"), event(s, "close")]);
          if (!s.destroyed) s.write(hello(hostId));
          await closed(s);
        };
        const before = {
          handshake: await stat("refusedPeers.handshake"),
          notPageServer: await stat("refusedPeers.not-page-server"),
          wrongHost: await stat("refusedPeers.wrong-host"),
        };
        // 1. plain TCP (no TLS at all), a well-formed HELLO claiming host B
        const plain = netConnect(linkPort, linkHost);
        await once(plain, "connect");
        plain.write(hello("hostB"));
        await closed(plain);
        // 2. TLS without a certificate
        await tlsPeer(undefined, "hostB");
        // 3. a page-server certificate of another CA
        await tlsPeer(loadCredentials(other, { host: "hostB", service: "page-server" }).tls, "hostB");
        // 4. another service's certificate of this deployment (blkback of host B)
        await tlsPeer(loadCredentials(keys, { host: "hostB", service: "blkback" }).tls, "hostB");
        // 5. host B's page-server certificate, a HELLO claiming another host
        await tlsPeer(loadCredentials(keys, { host: "hostB", service: "page-server" }).tls, "hostC");
        await waitFor(async () => (await stat("refusedPeers.handshake")) - before.handshake >= 3, {
          timeoutMs: 10_000,
          message: "three failed handshakes counted (plain, no certificate, another CA)",
        });
        assert.equal((await stat("refusedPeers.not-page-server")) - before.notPageServer, 1);
        assert.equal((await stat("refusedPeers.wrong-host")) - before.wrongHost, 1);
        const peers = (await status()).peers.map((p) => p.host).sort();
        assert.deepEqual(peers, ["hostB"], "no stranger became a peer");
        const m = (await hostA.metrics()).body;
        assert.match(m, /link_peers_refused_total\{[^}]*reason="not-page-server"[^}]*\} 1/);
        assert.match(m, /link_peers_refused_total\{[^}]*reason="wrong-host"[^}]*\} 1/);

        // The job completes: every block written was read back with its crc32c.
        await waitFor(() => ["done", "failed"].includes(latest()?.workload?.phase ?? ""), {
          timeoutMs: 120_000,
          message: `the write-verify job ends (${JSON.stringify(latest())})`,
        });
        const w = latest()!.workload!;
        assert.equal(w.phase, "done", JSON.stringify(w));
        assert.equal(w.errors, 0);
        assert.equal(w.verifyFailures, 0);
        assert.ok(Number(w.ios) > 100, `${w.ios} I/Os`);

        const del = await fetch(`${api}/domains/${domid}`, { method: "DELETE", headers: auth });
        assert.equal(del.status, 200, await del.text());
        // nothing the services did was refused; only the strangers were
        const after = (await hostA.metrics()).body;
        assert.doesNotMatch(after, /xensim_calls_refused_total\{[^}]*\} [1-9]/, "no call refused on host A");
        assert.doesNotMatch(after, /xensim_bus_refused_total\{[^}]*\} [1-9]/, "no subject refused on host A");
        assert.doesNotMatch(
          hostB.output(),
          /NATS refused|call refused|HELLO refused/,
          "nothing refused on B",
        );
      } finally {
        ps.close();
        if (hostB) assert.equal(await hostB.stop(), 0, hostB.output());
        await bus.close();
        await hostA.stop();
        await nats.stop();
      }
    },
  );
});
