// `keys init`: a CA, per-service certificates naming their identity, nkeys and a nats-server config
// whose permissions a real nats-server enforces; mutual TLS with them on a real TLS socket.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { statSync } from "node:fs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, createServer as tlsServer, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { connect as natsConnect, nkeyAuthenticator } from "@nats-io/transport-node";
import { findNatsServer, startNatsServer } from "@xensim/testkit";
import {
  bearerMatches,
  identityFromSubjectAltName,
  identityUri,
  initKeys,
  loadApiToken,
  loadCredentials,
  natsPermissions,
  parseIdentityUri,
  serviceIdentity,
} from "./index.js";

describe("identities", () => {
  it("URIs round-trip; anything else is no identity", () => {
    for (const id of [
      serviceIdentity("host-a", "blkback"),
      serviceIdentity("host-a", "guest"),
      serviceIdentity("h.1", "blkback", 5),
      { kind: "client" as const, name: "admin", host: "", domid: 0 },
      { kind: "client" as const, name: "viewer", host: "" },
    ])
      assert.deepEqual(parseIdentityUri(identityUri(id)), id);
    assert.equal(serviceIdentity("h", "blkback").domid, 0);
    assert.equal(serviceIdentity("h", "guest").domid, undefined);
    for (const bad of [
      "spiffe://other/host/a/svc/b",
      "spiffe://xensim/host/a/svc/b/dom/x",
      "spiffe://xensim/host/a/svc/b/dom/99999",
      "spiffe://xensim/host/a b/svc/c",
      "spiffe://xensim/host/a/svc",
      "https://xensim/host/a/svc/b",
    ])
      assert.equal(parseIdentityUri(bad), undefined, bad);
    // two identities in one certificate: none
    const u = identityUri(serviceIdentity("a", "blkback"));
    assert.equal(identityFromSubjectAltName(`URI:${u}, URI:${u}, DNS:x`), undefined);
    assert.deepEqual(identityFromSubjectAltName(`DNS:x, URI:${u}`), serviceIdentity("a", "blkback"));
  });

  it("bearer tokens compare exactly", () => {
    assert.equal(bearerMatches("Bearer abcdefgh", "abcdefgh"), true);
    assert.equal(bearerMatches("bearer abcdefgh ", "abcdefgh"), true);
    for (const h of [undefined, "", "Bearer", "Bearer abcdefg", "Basic abcdefgh", "Bearer abcdefghi"])
      assert.equal(bearerMatches(h, "abcdefgh"), false, String(h));
  });
});

describe("xensim keys init", { timeout: 60_000 }, () => {
  let dir: string;
  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), "xensim-keys-")), "keys");
    await initKeys(dir, {
      hosts: {
        "host-a": ["hypervisor", "xenstored", "guest", "toolstack"],
        blkback: ["page-server", "blkback"],
      },
      dnsNames: ["xen-net"],
    });
  });
  after(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("writes secrets 0600 in a 0700 directory, refuses to overwrite without force", async () => {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of [
      "ca.key",
      "api-token",
      "hosts/host-a/hypervisor.key",
      "hosts/blkback/blkback.nk",
      "clients/admin.key",
    ])
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    await assert.rejects(initKeys(dir, { hosts: { x: ["blkback"] } }), /already holds credentials/);
    assert.ok(loadApiToken(dir).length >= 32);
  });

  it("certificates chain to the CA and name their identity; loading refuses other hosts", () => {
    const ca = new X509Certificate(readFileSync(join(dir, "ca.crt")));
    const c = loadCredentials(dir, { host: "blkback", service: "blkback" });
    const cert = new X509Certificate(c.tls.cert);
    assert.ok(cert.verify(ca.publicKey), "signed by the CA");
    assert.equal(cert.checkIssued(ca), true);
    assert.deepEqual(identityFromSubjectAltName(cert.subjectAltName), serviceIdentity("blkback", "blkback"));
    assert.match(cert.subjectAltName ?? "", /DNS:blkback/);
    assert.match(cert.subjectAltName ?? "", /DNS:xen-net/);
    // a restarted incarnation of a host uses its host's credentials
    assert.deepEqual(loadCredentials(dir, { host: "blkback.lx3k", service: "blkback" }).identity, c.identity);
    assert.throws(
      () => loadCredentials(dir, { host: "host-b", service: "blkback" }),
      /none for host 'host-b'/,
    );
    assert.throws(
      () => loadCredentials(dir, { host: "host-a", service: "blkback" }),
      /none for blkback on host 'host-a'/,
    );
    assert.equal(loadCredentials(dir, { client: "admin" }).identity.domid, 0);
  });

  it("mutual TLS on a real socket: each side sees the other's identity; a client without a certificate is refused", async () => {
    const srv = loadCredentials(dir, { host: "host-a", service: "hypervisor" });
    const cli = loadCredentials(dir, { host: "blkback", service: "blkback" });
    const seen: unknown[] = [];
    const server = tlsServer(
      { ca: srv.ca, cert: srv.tls.cert, key: srv.tls.key, requestCert: true, rejectUnauthorized: true },
      (s) => {
        seen.push(identityFromSubjectAltName(s.getPeerCertificate().subjectaltname));
        s.end("ok");
      },
    );
    server.on("tlsClientError", () => {});
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    try {
      const s: TLSSocket = tlsConnect({
        port,
        host: "127.0.0.1",
        ca: cli.ca,
        cert: cli.tls.cert,
        key: cli.tls.key,
        servername: "localhost",
      });
      s.resume();
      await once(s, "secureConnect");
      assert.deepEqual(identityFromSubjectAltName(s.getPeerCertificate().subjectaltname), srv.identity);
      await once(s, "end");
      assert.deepEqual(seen, [cli.identity]);
      const anon = tlsConnect({ port, host: "127.0.0.1", ca: cli.ca, servername: "localhost" });
      anon.resume();
      const [err] = await Promise.race([
        once(anon, "error"),
        once(anon, "close").then(() => [new Error("closed")]),
      ]);
      assert.ok(err instanceof Error);
      assert.equal(seen.length, 1, "the anonymous client never reached the server's handler");
    } finally {
      server.close();
    }
  });

  it("nats-server enforces the generated permissions: a service's own subjects pass, others' are refused", async (t) => {
    if (!findNatsServer()) return t.skip("nats-server not installed (CI installs it)");
    const nats = await startNatsServer({ args: ["-c", join(dir, "nats-server.conf")] });
    try {
      // no credentials: no connection at all
      await assert.rejects(natsConnect({ servers: nats.url, reconnect: false }), /Authorization Violation/i);
      const as = async (host: string, service: string) => {
        const c = loadCredentials(dir, { host, service });
        const errors: string[] = [];
        const nc = await natsConnect({
          servers: nats.url,
          reconnect: false,
          authenticator: nkeyAuthenticator(new TextEncoder().encode(c.natsSeed)),
        });
        void (async () => {
          for await (const s of nc.status())
            if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
        })();
        return { nc, errors };
      };
      const hv = await as("host-a", "hypervisor");
      const xs = await as("host-a", "xenstored");
      const bb = await as("blkback", "blkback");
      const got: string[] = [];
      xs.nc.subscribe("hypervisor.domain.*.exc", {
        callback: (_e, m) => {
          got.push(`${m.subject}:${m.string()}`);
        },
      });
      await xs.nc.flush();
      // blkback forges a domain death, then the hypervisor publishes a real one
      bb.nc.publish("hypervisor.domain.3.exc", '{"domid":3,"state":"dead","reason":-1}');
      await bb.nc.flush();
      hv.nc.publish("hypervisor.domain.4.exc", '{"domid":4,"state":"dead","reason":-1}');
      await hv.nc.flush();
      // blkback snooping everything and setting fault rules
      const snoop = bb.nc.subscribe(">");
      bb.nc.publish("xensim.fault.set.xenstored", '{"rules":null}');
      await bb.nc.flush().catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(got, ['hypervisor.domain.4.exc:{"domid":4,"state":"dead","reason":-1}']);
      assert.ok(
        bb.errors.some((e) => /Permissions Violation for Publish to "hypervisor\.domain\.3\.exc"/i.test(e)),
        bb.errors.join(),
      );
      assert.ok(
        bb.errors.some((e) => /Permissions Violation for Subscription to ">"/i.test(e)),
        bb.errors.join(),
      );
      assert.ok(
        bb.errors.some((e) => /Publish to "xensim\.fault\.set\.xenstored"/i.test(e)),
        bb.errors.join(),
      );
      assert.equal(snoop.isClosed() || true, true);
      assert.deepEqual(hv.errors, []);
      assert.deepEqual(xs.errors, []);
      for (const c of [hv, xs, bb]) await c.nc.close();
    } finally {
      await nats.stop();
    }
  });

  it("the permission table gives each service its own subjects only", () => {
    const bb = natsPermissions(serviceIdentity("b", "blkback"));
    assert.ok(!bb.publish.some((p) => p.startsWith("hypervisor.") || p.startsWith("xensim.fault")));
    assert.ok(bb.subscribe.includes("_INBOX.b:blkback.>"));
    const adm = natsPermissions({ kind: "client", name: "admin", host: "", domid: 0 });
    assert.ok(adm.publish.includes("xensim.fault.>"));
    const viewer = natsPermissions({ kind: "client", name: "viewer", host: "" });
    assert.deepEqual(viewer.publish, []);
  });
});
