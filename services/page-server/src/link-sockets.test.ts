// The link's sockets with credentials, the dialling side: host A looks up host B's link address and
// dials it; what answers there presents blkback's certificate of host B (same CA), not host B's
// page-server's. The dial is refused in the handshake and counted (`wrong-server`), retried, and no
// HELLO is ever sent to the impostor; host B never becomes a peer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { createInProcessBus } from "@xensim/bus";
import { PageStore } from "@xensim/memory";
import { initKeys, linkTlsOptions, loadCredentials } from "@xensim/security";
import { tempDir, waitFor } from "@xensim/testkit";
import { pino } from "pino";
import { PageServerConfigSchema } from "./config.js";
import { LinkSockets } from "./link-sockets.js";

describe("link sockets with credentials", { timeout: 60_000 }, () => {
  const dir = tempDir("xensim-link-sockets-");
  after(() => dir.cleanup());

  it("a dialled peer that is not that host's page-server: refused, counted, retried, never a peer", async () => {
    const keys = join(dir.path, "keys");
    await initKeys(keys, { hosts: { hostA: ["page-server"], hostB: ["page-server", "blkback"] } });
    const a = loadCredentials(keys, { host: "hostA", service: "page-server" });
    const impostor = loadCredentials(keys, { host: "hostB", service: "blkback" });
    let bytesHeard = 0;
    const server = createTlsServer(
      linkTlsOptions({ ca: impostor.ca, cert: impostor.tls.cert, key: impostor.tls.key }),
      (s) => {
        s.on("data", (d: Buffer) => (bytesHeard += d.length));
        s.on("error", () => {});
      },
    );
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;

    const bus = createInProcessBus({ name: `link-sockets-${process.pid}` });
    const enc = new TextEncoder();
    // whoever answers host B's address lookup points at the impostor
    bus.subscribe("link.hostB.address", {
      callback: (m) => {
        if (m.reply) bus.publish(m.reply, enc.encode(JSON.stringify({ tcp: `127.0.0.1:${port}`, unix: "" })));
      },
    });
    const link = new LinkSockets({
      store: PageStore.create({ frames: 256 }),
      hostId: "hostA",
      bus,
      log: pino({ level: "silent" }),
      cfg: PageServerConfigSchema.parse({}),
      tls: { ca: a.ca, cert: a.tls.cert, key: a.tls.key },
    });
    await link.start();
    try {
      assert.equal(link.secure, true);
      // what the engine does when it has something for host B
      (link as unknown as { connect(peer: string): void }).connect("hostB");
      await waitFor(() => link.refusedPeers["wrong-server"] >= 2, {
        timeoutMs: 30_000,
        message: `the impostor refused twice (a retry): ${JSON.stringify(link.refusedPeers)}`,
      });
      assert.equal(bytesHeard, 0, "no HELLO (no byte of the link) reached the impostor");
      assert.deepEqual(
        link.engine.peerInfo().filter((p) => p.ready),
        [],
        "host B is no peer",
      );
      assert.equal(link.authenticatedHellos, 0);
    } finally {
      await link.close();
      await new Promise<void>((r) => server.close(() => r()));
      await bus.close();
    }
  });
});
