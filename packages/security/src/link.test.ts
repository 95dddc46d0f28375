// The data-plane link's authentication on real TLS sockets: page-servers of two hosts see each
// other's host; a HELLO claiming another host, another service's certificate, and a peer from
// another CA are refused.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { authenticateLinkSocket, initKeys, linkTlsOptions, loadCredentials } from "./index.js";

describe("data-plane link authentication", { timeout: 60_000 }, () => {
  let root: string;
  let keys: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "xensim-link-"));
    keys = join(root, "keys");
    await initKeys(keys, {
      hosts: { hostA: ["page-server", "hypervisor"], hostB: ["page-server", "blkback"] },
    });
    await initKeys(join(root, "other"), { hosts: { hostB: ["page-server"] } });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** hostA's link listener; the client dials with `creds` and says `hello` as its host id. */
  async function dial(creds: ReturnType<typeof loadCredentials>, hello: string, ca?: string) {
    const a = loadCredentials(keys, { host: "hostA", service: "page-server" });
    const verdicts: ReturnType<typeof authenticateLinkSocket>[] = [];
    const server = createServer(
      { ...linkTlsOptions({ ca: a.ca, cert: a.tls.cert, key: a.tls.key }) },
      (s: TLSSocket) => {
        s.once("data", (d: Buffer) => {
          verdicts.push(authenticateLinkSocket(s, d.toString()));
          s.end();
        });
      },
    );
    server.on("tlsClientError", () => {});
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    const c = connect({
      port,
      host: "127.0.0.1",
      ca: ca ?? creds.ca,
      cert: creds.tls.cert,
      key: creds.tls.key,
      servername: "localhost",
    });
    c.on("error", () => {});
    c.resume();
    await Promise.race([once(c, "secureConnect"), once(c, "close")]);
    const peerOfServer = c.authorized ? authenticateLinkSocket(c, "hostA") : undefined;
    c.write(hello);
    await Promise.race([once(c, "close"), new Promise((r) => setTimeout(r, 1000))]);
    server.close();
    return { verdicts, peerOfServer };
  }

  it("two hosts' page-servers: each end knows the other's host", async () => {
    const b = loadCredentials(keys, { host: "hostB", service: "page-server" });
    const r = await dial(b, "hostB");
    assert.deepEqual(
      r.verdicts.map((v) => v.ok),
      [true],
    );
    assert.equal(r.verdicts[0]!.ok && r.verdicts[0]!.identity.host, "hostB");
    assert.equal(r.peerOfServer?.ok, true, "and the dialler verified hostA");
    // a host id the certificate does not name exactly (no `<host>.<suffix>` incarnations on the link)
    assert.deepEqual(
      (await dial(b, "hostB.lx3k")).verdicts.map((v) => (v.ok ? "ok" : v.refusal)),
      ["wrong-host"],
    );
  });

  it("a HELLO claiming another host, another service's certificate: refused", async () => {
    const b = loadCredentials(keys, { host: "hostB", service: "page-server" });
    const claimA = await dial(b, "hostA");
    assert.deepEqual(claimA.verdicts, [
      { ok: false, refusal: "wrong-host", reason: "HELLO says host hostA, the certificate says hostB" },
    ]);
    const bb = loadCredentials(keys, { host: "hostB", service: "blkback" });
    const wrong = await dial(bb, "hostB");
    assert.equal(wrong.verdicts[0]?.ok, false);
    assert.match(
      wrong.verdicts[0]!.ok ? "" : wrong.verdicts[0]!.reason,
      /blkback@hostB .* is not a host's page-server/,
    );
  });

  it("a peer of another CA never gets a HELLO through", async () => {
    const other = loadCredentials(join(root, "other"), { host: "hostB", service: "page-server" });
    const a = loadCredentials(keys, { host: "hostA", service: "page-server" });
    const r = await dial(other, "hostB", a.ca);
    assert.deepEqual(r.verdicts, [], "the handshake failed: no HELLO was read");
  });
});
