// One truth after a restart (issue 14): `xensim up` with a domain whose disk is Connected (NBD
// export and all), the whole host killed (kill -9, then again with SIGTERM), and `up` on the same
// state directory. xenstore survives, the hypervisor's domains do not (their memory went with the
// process): the restarted host says the domain was lost and cleaned it away (log, API /recovery,
// xl list), its nodes and backend directories are gone, and a new domain with no disks gets no
// devices — not the old domain's, whatever domid it is given.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connectNatsBus, createGrpcCallClient } from "@xensim/bus";
import { loadXenstoreProto } from "@xensim/proto";
import { inboxPrefix, initKeys, loadApiToken, loadCredentials } from "@xensim/security";
import { findNatsServer, spawnJsonLinesChild, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { connectXenstore } from "@xensim/xenstore-client";
import { spawnXensim, XENSIM_BIN, type XensimProcess } from "./harness.js";

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [XENSIM_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
    p.once("exit", (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

describe(
  "a restarted host: domains lost with it are cleaned away, never inherited",
  { timeout: 360_000 },
  () => {
    const dir = tempDir("xensim-restart-");
    after(() => dir.cleanup());

    for (const how of ["kill -9", "SIGTERM"] as const)
      it(`${how}, then up on the same state directory`, async () => {
        const stateDir = join(dir.path, how === "kill -9" ? "k9" : "term");
        const socket = join(stateDir, "xenstored.sock");
        const start = async (): Promise<{ up: XensimProcess; api: string; auth: Record<string, string> }> => {
          const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--no-examples"]);
          await waitFor(() => /xensim host .* up in/.test(up.output()) || up.proc.exitCode !== null, {
            timeoutMs: 60_000,
            message: `up: ${up.output()}`,
          });
          assert.equal(up.proc.exitCode, null, up.output());
          const api = readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
          const token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
          return { up, api, auth: { authorization: `Bearer ${token}` } };
        };
        const xs = async (...args: string[]) =>
          (await cli(["xenstore", "--socket", socket, ...args])).stdout.trim();

        // first run: a domain with a Connected disk
        const a = await start();
        const created = await fetch(`${a.api}/domains`, {
          method: "POST",
          headers: { ...a.auth, "content-type": "application/json" },
          body: JSON.stringify({
            config: [
              'name = "old"',
              'type = "hvm"',
              "memory = 32",
              "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=8M' ]",
              'xensim_workload = "idle"',
            ].join("\n"),
          }),
        });
        const body = (await created.json()) as { domid: number };
        assert.equal(created.status, 201, JSON.stringify(body));
        const old = body.domid;
        await waitFor(
          async () => {
            const r = (await (await fetch(`${a.api}/domains/${old}/disks`, { headers: a.auth })).json()) as {
              disks: Array<{ frontendState: string; nbdUri?: string }>;
            };
            return r.disks[0]?.frontendState === "Connected" && (r.disks[0]?.nbdUri ?? "") !== "";
          },
          { timeoutMs: 30_000, message: "old's disk Connected with an NBD export" },
        );
        assert.match(await xs("ls", `/local/domain/0/backend/vbd/${old}`), /51712/);
        if (how === "kill -9") await a.up.kill9();
        else assert.equal(await a.up.stop(), 0, a.up.output());

        // second run on the same state directory
        const b = await start();
        try {
          // the log says which (the toolstack's worker logs it before its API listens, but its line
          // may reach the host's output after the "up" banner)
          const lostLine = new RegExp(`domains lost in a restart, cleaned away: ${old} \\(old\\)`);
          await waitFor(() => lostLine.test(b.up.output()), {
            timeoutMs: 10_000,
            message: () => `the lost-domain log line: ${b.up.output()}`,
          });
          const rec = (await (await fetch(`${b.api}/recovery`, { headers: b.auth })).json()) as {
            adopted: number[];
            cleaned: Array<{ domid: number; name: string; outcome: string }>;
          };
          assert.deepEqual(rec.cleaned, [{ domid: old, name: "old", outcome: "cleaned" }]);
          assert.deepEqual(rec.adopted, []);
          // its nodes, its backend directory and its toolstack record are gone
          assert.doesNotMatch(await xs("ls", "/local/domain"), new RegExp(`^${old}\\b`, "m"));
          assert.doesNotMatch(await xs("ls", "/local/domain/0/backend/vbd"), new RegExp(`^${old}\\b`, "m"));
          assert.doesNotMatch(await xs("ls", "/libxl"), new RegExp(`^${old}\\b`, "m"));
          // xl list says so
          const list = await cli(["xl", "--state-dir", stateDir, "list"]);
          assert.equal(list.status, 0, list.stderr);
          assert.match(
            list.stderr,
            new RegExp(`domain ${old} \\(old\\) was lost when the host restarted: cleaned away`),
          );
          assert.doesNotMatch(list.stdout, /\bold\b/);
          // a new domain with no disks has no devices at all
          const n = await fetch(`${b.api}/domains`, {
            method: "POST",
            headers: { ...b.auth, "content-type": "application/json" },
            body: JSON.stringify({
              config: 'name = "new"\ntype = "hvm"\nmemory = 16\nxensim_workload = "idle"',
            }),
          });
          const nb = (await n.json()) as { domid: number };
          assert.equal(n.status, 201, JSON.stringify(nb));
          const disks = (await (
            await fetch(`${b.api}/domains/${nb.domid}/disks`, { headers: b.auth })
          ).json()) as {
            disks: unknown[];
          };
          assert.deepEqual(disks.disks, [], `domain ${nb.domid} has no disks`);
          assert.doesNotMatch(
            await xs("ls", "/local/domain/0/backend/vbd"),
            new RegExp(`^${nb.domid}\\b`, "m"),
          );
          assert.equal(await xs("ls", `/local/domain/${nb.domid}/device`), "");
        } finally {
          assert.equal(await b.up.stop(), 0, b.up.output());
        }
      });

    it(
      "distributed: host A (hypervisor, xenstored, guest runtime, toolstack) and host B (blkback) killed -9, restarted with credentials",
      { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
      async () => {
        const base = join(dir.path, "dist");
        const keys = join(base, "keys");
        await initKeys(keys, {
          hosts: {
            hostA: ["hypervisor", "xenstored", "page-server", "guest", "toolstack"],
            hostB: ["page-server", "blkback"],
          },
        });
        const nats = await startNatsServer({ args: ["-c", join(keys, "nats-server.conf")] });
        const auth = { authorization: `Bearer ${loadApiToken(keys)}` };
        const fixture = join(import.meta.dirname, "fixtures", "restart-host-a.js");
        const startA = async () => {
          const a = spawnJsonLinesChild(fixture, [nats.url, join(base, "hostA"), keys]);
          const r = (await a.next("ready", 90_000)).ready as {
            hypervisor: string;
            xenstored: string;
            api: string;
          };
          return { a, ...r };
        };
        const startB = (hv: string, xs: string) =>
          spawnXensim([
            "up",
            "--nats",
            nats.url,
            "--keys",
            keys,
            "--services",
            "page-server,blkback",
            "--host-id",
            "hostB",
            "--state-dir",
            join(base, "hostB"),
            "--set",
            "blkback.hypervisorHost=hostA",
            "--set",
            `blkback.hypervisor=${hv}`,
            "--set",
            `blkback.xenstored=${xs}`,
          ]);
        const admin = loadCredentials(keys, { client: "admin" });
        const xsAt = async (addr: string) => {
          const calls = createGrpcCallClient(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, addr, {
            tls: { ca: admin.ca, cert: admin.tls.cert, key: admin.tls.key },
          });
          const bus = await connectNatsBus({
            servers: nats.url,
            name: "restart-test",
            nkeySeed: admin.natsSeed,
            inboxPrefix: inboxPrefix(admin.identity),
          });
          const xs = await connectXenstore({ calls, bus, clientName: "restart-test" });
          return {
            xs,
            close: async () => {
              await xs.close();
              calls.close();
              await bus.close();
            },
          };
        };
        let A = await startA();
        let B = startB(A.hypervisor, A.xenstored);
        try {
          await waitFor(() => B.output().includes("services: page-server, blkback"), {
            timeoutMs: 60_000,
            message: `host B: ${B.output()}`,
          });
          const created = await fetch(`${A.api}/domains`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({
              config: [
                'name = "old"',
                'type = "hvm"',
                "memory = 32",
                "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=8M' ]",
                'xensim_workload = "idle"',
              ].join("\n"),
            }),
          });
          const body = (await created.json()) as { domid: number };
          assert.equal(created.status, 201, JSON.stringify(body));
          const old = body.domid;
          await waitFor(
            async () => {
              const r = (await (await fetch(`${A.api}/domains/${old}/disks`, { headers: auth })).json()) as {
                disks: Array<{ frontendState: string; backendState: string }>;
              };
              return r.disks[0]?.frontendState === "Connected" && r.disks[0]?.backendState === "Connected";
            },
            { timeoutMs: 60_000, message: "old's disk Connected through host B" },
          );
          // both host processes killed
          const exitedA = new Promise<void>((r) => A.a.child.once("exit", () => r()));
          A.a.child.kill("SIGKILL");
          await exitedA;
          await B.kill9();
          // host A first: its toolstack cleans the lost domain away before its API answers
          A = await startA();
          const rec = (await (await fetch(`${A.api}/recovery`, { headers: auth })).json()) as {
            cleaned: Array<{ domid: number; name: string; outcome: string }>;
          };
          assert.deepEqual(rec.cleaned, [{ domid: old, name: "old", outcome: "cleaned" }]);
          const x = await xsAt(A.xenstored);
          try {
            assert.equal(await x.xs.tryRead(`/local/domain/${old}/name`), undefined);
            assert.ok(
              !(await x.xs.ls("/local/domain/0/backend/vbd").catch(() => [] as string[])).includes(
                String(old),
              ),
            );
            // host B again: nothing of the old domain for its blkback to serve
            B = startB(A.hypervisor, A.xenstored);
            await waitFor(() => B.output().includes("services: page-server, blkback"), {
              timeoutMs: 60_000,
              message: `host B again: ${B.output()}`,
            });
            const n = await fetch(`${A.api}/domains`, {
              method: "POST",
              headers: { ...auth, "content-type": "application/json" },
              body: JSON.stringify({
                config: 'name = "new"\ntype = "hvm"\nmemory = 16\nxensim_workload = "idle"',
              }),
            });
            const nb = (await n.json()) as { domid: number };
            assert.equal(n.status, 201, JSON.stringify(nb));
            const disks = (await (
              await fetch(`${A.api}/domains/${nb.domid}/disks`, { headers: auth })
            ).json()) as {
              disks: unknown[];
            };
            assert.deepEqual(disks.disks, [], `domain ${nb.domid} has no disks`);
            assert.ok(
              !(await x.xs.ls("/local/domain/0/backend/vbd").catch(() => [] as string[])).includes(
                String(nb.domid),
              ),
            );
            assert.deepEqual(await x.xs.ls(`/local/domain/${nb.domid}/device`).catch(() => []), []);
          } finally {
            await x.close();
          }
        } finally {
          await B.stop().catch(() => 0);
          A.a.child.kill("SIGTERM");
          await nats.stop();
        }
      },
    );
  },
);
