// The device model in another host process than its HVM guest (real processes, real nats-server,
// gRPC and link sockets). Host A (this process) runs the hypervisor, xenstored, a page-server, the
// guest runtime and the toolstack; host B (`xensim up --services page-server,device-model`, a child
// process) runs the primary emulator, which maps its ioreq server's pages (acquire_resource) and the
// guest's RAM (rep outs buffers) over the link between the two page-servers. The guest's BIOS prints
// its banner on the UART (read through the toolstack's console API, as `xl console` does), reads the
// RTC, probes the PCI bus and draws into the framebuffer (stdvga's buffered path), then beats on
// COM1. Host B is killed with SIGKILL and started again: the guest's vCPU waits (Xen has no ioreq
// timeout), the new instance reclaims the server and the heartbeats go on.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startHost } from "@xensim/runtime";
import { findNatsServer, freePort, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { serviceEntryPath, spawnXensim, type XensimProcess } from "./harness.js";

describe("the device model in another host process", () => {
  const dir = tempDir("xensim-dm-host-");
  after(() => dir.cleanup());

  it(
    "UART, RTC, PCI, framebuffer and the buffered path across host processes; host B killed and restarted",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 300_000 },
    async () => {
      const nats = await startNatsServer();
      const [hvPort, xsPort, dmPort, apiPort, bHttp] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
        freePort(),
        freePort(),
      ]);
      const hostA = await startHost({
        hostId: "hostA",
        nats: nats.url,
        grpcListen: { hypervisor: `127.0.0.1:${hvPort}`, xenstored: `127.0.0.1:${xsPort}` },
        services: [
          { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
          { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
          { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
          { name: "guest", entry: serviceEntryPath("guest"), config: { stateDir: join(dir.path, "guest") } },
          {
            name: "toolstack",
            entry: serviceEntryPath("toolstack"),
            config: {
              guest: "guest",
              // by address: the host's name → address table may not hold the hypervisor yet when the
              // toolstack's client is made (then it would be an in-process client, which fails)
              hypervisor: `127.0.0.1:${hvPort}`,
              deviceModels: { primary: `127.0.0.1:${dmPort}`, secondary: "" },
              libDir: join(dir.path, "lib"),
              api: { host: "127.0.0.1", port: apiPort, tokenFile: "" },
            },
          },
        ],
        sharedMemoryBytes: 256 << 20,
        logLevel: "warn",
      });
      const upB = (): XensimProcess =>
        spawnXensim([
          "up",
          "--nats",
          nats.url,
          "--services",
          "page-server,device-model",
          "--host-id",
          "hostB",
          "--state-dir",
          join(dir.path, "hostB"),
          "--insecure", // credentials: test/src/link-auth.test.ts
          "--no-examples",
          "--http-port",
          String(bHttp),
          "--grpc",
          `device-model=127.0.0.1:${dmPort}`,
          "--set",
          "device-model.hypervisorHost=hostA",
          "--set",
          `device-model.hypervisor=127.0.0.1:${hvPort}`,
          "--set",
          `device-model.xenstored=127.0.0.1:${xsPort}`,
        ]);
      let hostB: XensimProcess | undefined;
      const api = `http://127.0.0.1:${apiPort}`;
      const consoleText = async (domid: number): Promise<string> => {
        const r = await fetch(`${api}/domains/${domid}/console?offset=0`);
        if (r.status !== 200) return "";
        return Buffer.from(((await r.json()) as { data: string }).data, "base64").toString();
      };
      const lastBeat = (text: string): number => {
        const m = [...text.matchAll(/vcpu0 heartbeat (\d+)/g)];
        return m.length ? Number(m[m.length - 1]![1]) : 0;
      };
      const bMetric = async (re: RegExp): Promise<number> => {
        try {
          const m = await (await fetch(`http://127.0.0.1:${bHttp}/metrics`)).text();
          const v = re.exec(m);
          return v ? Number(v[1]) : 0;
        } catch {
          return 0;
        }
      };
      try {
        await hostA.ready;
        hostB = upB();
        await waitFor(() => hostB!.output().includes("services: page-server, device-model"), {
          timeoutMs: 60_000,
          message: `host B up: ${hostB.output()}`,
        });
        const cfg = [
          'name = "dmx"',
          'type = "hvm"',
          "memory = 32",
          "vcpus = 1",
          "disk = [ ]",
          'xensim_firmware = "bios,heartbeat-ms=200"',
        ].join("\n");
        const res = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ config: cfg, filename: "dmx.cfg" }),
        });
        const created = (await res.json()) as { domid: number; error?: string };
        assert.equal(res.status, 201, JSON.stringify(created));
        const domid = created.domid;
        await waitFor(async () => (await consoleText(domid)).includes("xensim BIOS: boot done"), {
          timeoutMs: 60_000,
          message: `the BIOS banner through host B (${hostB.output().slice(-3000)})`,
        });
        const text = await consoleText(domid);
        assert.match(
          text,
          /^xensim BIOS: booting dmx \(boot 1\)\r\n/,
          "the UART banner (rep outsb from guest RAM)",
        );
        assert.match(text, /RTC: \d{4}-\d\d-\d\d/, "the CMOS RTC");
        assert.match(text, /PCI 00:00\.0 8086:/, "the PCI host bridge probed");
        assert.match(text, /VGA: drew 320x200, 8\/8 pixels read back/, "the framebuffer");
        const buffered = await bMetric(/^device_model_requests_total\{[^}]*kind="buffered"[^}]*\} (\d+)/m);
        assert.ok(buffered > 0, "stdvga's writes came through the buffered ring");
        await waitFor(async () => lastBeat(await consoleText(domid)) >= 2, {
          timeoutMs: 30_000,
          message: "heartbeats",
        });
        const m = (await hostA.metrics()).body;
        const foreign = /^link_foreign_maps_total(?:\{[^}]*\})? (\d+)/m.exec(m);
        assert.ok(foreign && Number(foreign[1]) >= 2, "the ioreq pages and guest RAM went over the link");

        // Host B killed with SIGKILL mid-heartbeat, then started again: the emulator is recovered.
        await hostB.kill9();
        const before = lastBeat(await consoleText(domid).catch(() => ""));
        hostB = upB();
        await waitFor(() => hostB!.output().includes("services: page-server, device-model"), {
          timeoutMs: 60_000,
          message: `host B up again: ${hostB.output()}`,
        });
        await waitFor(async () => lastBeat(await consoleText(domid)) > before + 2, {
          timeoutMs: 60_000,
          message: `heartbeats after host B's restart (${hostB.output().slice(-3000)})`,
        });

        const del = await fetch(`${api}/domains/${domid}`, { method: "DELETE" });
        assert.equal(del.status, 200, await del.text());
        await waitFor(
          async () => {
            const body = (await hostA.metrics()).body;
            const live = /^link_foreign_maps_live(?:\{[^}]*\})? (\d+)/m.exec(body);
            return live !== null && Number(live[1]) === 0;
          },
          { timeoutMs: 30_000, message: "no foreign mapping left after xl destroy" },
        );
      } finally {
        await hostA.stop();
        if (hostB) await hostB.stop();
        await nats.stop();
      }
    },
  );
});
