// QMP `system_reset` → the toolstack's reboot reaction. qemu-xen turns a system reset into
// SHUTDOWN_reboot for Xen; the toolstack then applies the domain's `on_reboot` (libxl's
// domain_death handling): `restart` destroys the domain and creates it again — the same
// name and uuid, its device model started again (a fresh QMP socket, the BIOS booting from its
// first boot); `destroy` tears it down with its emulators; `preserve` keeps it shut down, emulator
// and all, until `xl destroy`. The reset is sent by a plain QMP client on libxl's qmp-libxl-<domid>
// socket, as `socat` or libxl would.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, runXl, spawnXensim, xenstoreTool } from "./harness.js";
import { qmpClient } from "./qmp-client.js";

interface Action {
  domid: number;
  reason: string;
  action: string;
  newDomid?: number;
  outcome: string;
}

describe("QMP system_reset: the toolstack's on_reboot reaction", () => {
  const dir = tempDir("xensim-dm-reboot-");
  after(() => dir.cleanup());

  it(
    "restart: created again with the same name and uuid, emulator started again; destroy: gone with its emulator; preserve: kept until xl destroy",
    { skip: haveBinary("xenstore-read") ? false : "xenstore-utils not installed", timeout: 300_000 },
    async () => {
      const stateDir = join(dir.path, "state");
      const sock = join(stateDir, "xenstored.sock");
      const xl = (args: string[]) => runXl(stateDir, args);
      const read = (path: string) => {
        const r = xenstoreTool(sock, "xenstore-read", [path]);
        return r.status === 0 ? r.stdout.trim() : undefined;
      };
      const cfg = (name: string, onReboot: string) => {
        const f = join(dir.path, `${name}.cfg`);
        writeFileSync(
          f,
          [
            `name = "${name}"`,
            'type = "hvm"',
            "memory = 16",
            "vcpus = 1",
            `on_reboot = "${onReboot}"`,
            'xensim_firmware = "bios,heartbeat-ms=500"',
            "",
          ].join("\n"),
        );
        return f;
      };
      const domidOf = async (name: string): Promise<number | undefined> => {
        const m = new RegExp(`^${name}\\s+(\\d+)\\s`, "m").exec((await xl(["list"])).stdout);
        return m ? Number(m[1]) : undefined;
      };
      const bannerDone = async (name: string) =>
        (await xl(["console", name, "--once"])).stdout.includes("xensim BIOS: boot done");
      const actions = async (): Promise<Action[]> => {
        const url = readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
        const token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
        const r = await fetch(`${url}/actions`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 200);
        return ((await r.json()) as { actions: Action[] }).actions;
      };
      const dmRecord = (domid: number) => `/local/domain/0/device-model/${domid}`;
      /** system_reset over the emulator's QMP socket, as libxl or socat would send it. */
      const systemReset = async (domid: number) => {
        const path = read(`${dmRecord(domid)}/xensim/primary/qmp`);
        assert.ok(path, `the QMP socket of domain ${domid}'s emulator is recorded`);
        const q = await qmpClient(path);
        try {
          await q.next((m) => "QMP" in m, "greeting");
          assert.deepEqual((await q.execute("qmp_capabilities"))["return"], {});
          assert.deepEqual((await q.execute("system_reset"))["return"], {});
          const ev = await q.next((m) => m["event"] === "RESET", "RESET event");
          assert.deepEqual(ev["data"], { guest: false, reason: "host-qmp-system-reset" });
        } finally {
          q.close();
        }
        return path;
      };

      const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0"]);
      try {
        await waitFor(() => /toolstack: http/.test(up.output()), {
          timeoutMs: 60_000,
          message: `xensim up: ${up.output()}`,
        });
        const guests = [
          ["rb-restart", "restart"],
          ["rb-destroy", "destroy"],
          ["rb-preserve", "preserve"],
        ] as const;
        const domids: Record<string, number> = {};
        for (const [name, onReboot] of guests) {
          const c = await xl(["create", cfg(name, onReboot)]);
          assert.equal(c.status, 0, c.stderr);
          domids[name] = Number(new RegExp(`Domain (\\d+) \\(${name}\\) created`).exec(c.stdout)![1]);
        }
        for (const [name] of guests)
          await waitFor(() => bannerDone(name), { timeoutMs: 60_000, message: `${name}'s BIOS banner` });

        // restart
        const old = domids["rb-restart"]!;
        const uuid = read(`/local/domain/${old}/vm`);
        assert.match(uuid ?? "", /^\/vm\/[0-9a-f-]{36}$/);
        assert.equal(read(`${dmRecord(old)}/state`), "running");
        const oldQmp = await systemReset(old);
        // The restart's record (domids may be reused: the new one is what the toolstack reports).
        let seen = "";
        const restarted = await waitFor(
          async () => {
            const all = await actions();
            seen = `${JSON.stringify(all)} ${(await xl(["list"])).stdout}`;
            return all.find((a) => a.domid === old && a.newDomid !== undefined);
          },
          { timeoutMs: 60_000, message: "rb-restart created again" },
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}; actions and xl list: ${seen}`);
        });
        assert.deepEqual(
          { reason: restarted.reason, action: restarted.action, outcome: restarted.outcome },
          { reason: "reboot", action: "restart", outcome: "ok" },
        );
        const fresh = restarted.newDomid!;
        assert.equal(await domidOf("rb-restart"), fresh);
        assert.equal(read(`/local/domain/${fresh}/vm`), uuid, "the same uuid");
        assert.equal(read(`/local/domain/${fresh}/name`), "rb-restart");
        await waitFor(() => read(`${dmRecord(fresh)}/state`) === "running", {
          timeoutMs: 30_000,
          message: "the new domain's device model running",
        });
        // Xen's domid allocator may hand the same number out again: then the nodes are the new ones.
        if (fresh !== old)
          await waitFor(() => read(`${dmRecord(old)}/state`) === undefined, {
            timeoutMs: 15_000,
            message: "the old domain's device-model nodes removed",
          });
        await waitFor(() => bannerDone("rb-restart"), {
          timeoutMs: 60_000,
          message: "the new boot's banner",
        });
        assert.match((await xl(["console", "rb-restart", "--once"])).stdout, /booting rb-restart \(boot 1\)/);
        // The new emulator answers on its own socket.
        const newPath = read(`${dmRecord(fresh)}/xensim/primary/qmp`)!;
        if (fresh !== old) assert.notEqual(newPath, oldQmp);
        const q = await qmpClient(newPath);
        try {
          await q.next((m) => "QMP" in m, "greeting");
          await q.execute("qmp_capabilities");
          assert.equal(((await q.execute("query-status"))["return"] as { status: string }).status, "running");
        } finally {
          q.close();
        }

        // destroy
        const gone = domids["rb-destroy"]!;
        await systemReset(gone);
        await waitFor(async () => (await domidOf("rb-destroy")) === undefined, {
          timeoutMs: 30_000,
          message: "rb-destroy destroyed",
        });
        const destroyed = (await actions()).find((a) => a.domid === gone);
        assert.deepEqual(
          destroyed && { reason: destroyed.reason, action: destroyed.action, outcome: destroyed.outcome },
          { reason: "reboot", action: "destroy", outcome: "ok" },
        );
        await waitFor(() => read(`${dmRecord(gone)}/state`) === undefined, {
          timeoutMs: 15_000,
          message: "rb-destroy's emulator stopped",
        });

        // preserve
        const kept = domids["rb-preserve"]!;
        await systemReset(kept);
        await waitFor(async () => (await actions()).some((a) => a.domid === kept), {
          timeoutMs: 30_000,
          message: "rb-preserve's on_reboot applied",
        });
        const preserved = (await actions()).find((a) => a.domid === kept)!;
        assert.deepEqual(
          { reason: preserved.reason, action: preserved.action, outcome: preserved.outcome },
          { reason: "reboot", action: "preserve", outcome: "ok" },
        );
        assert.match(
          (await xl(["list"])).stdout,
          new RegExp(`^rb-preserve\\s+${kept}\\s.*s`, "m"),
          "kept, shut down",
        );
        assert.equal(read(`${dmRecord(kept)}/state`), "running", "its emulator kept for inspection");
        const d = await xl(["destroy", "rb-preserve"]);
        assert.equal(d.status, 0, d.stderr);
        await waitFor(() => read(`${dmRecord(kept)}/state`) === undefined, {
          timeoutMs: 15_000,
          message: "rb-preserve's emulator stopped by xl destroy",
        });
        assert.equal((await xl(["destroy", "rb-restart"])).status, 0);
      } finally {
        await up.stop();
      }
    },
  );
});
