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
import { tempDir, waitFor } from "@xensim/testkit";
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
  { timeout: 240_000 },
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
          // the log says which
          assert.match(
            b.up.output(),
            new RegExp(`domains lost in a restart, cleaned away: ${old} \\(old\\)`),
          );
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
  },
);
