// The device model as a user meets it: `xensim up` (two device-model instances), `xensim xl create`
// of an HVM config with a second emulator, the BIOS banner read with `xensim xl console`, then
// `xensim xl trigger D soft-reset` twice — the guest kexecs, the toolstack saves the emulators'
// state to qemu-save.<domid>, soft-resets the domain and restarts the emulators from it. Compared
// before and after: the UART registers and output, the RTC's CMOS, the PCI configuration spaces and
// the framebuffer; the kexec'd BIOS finds them too. The domid stays, the store port rewritten (read with
// Debian's xenstore-read), the disk reconnects, and xl destroy leaves no emulator behind.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PNG } from "pngjs";
import { tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, spawnXensim, runXl, xenstoreTool } from "./harness.js";

const xl = (stateDir: string, args: string[]) => runXl(stateDir, args);

interface Saved {
  role: string;
  serials: Array<{
    dll: number;
    dlm: number;
    ier: number;
    lcr: number;
    mcr: number;
    scr: number;
    fcr: number;
    log: string;
  }>;
  rtc?: { cmos: number[] };
  pci: Record<string, number[]>;
  vga?: { vram: string; palette: number[] };
}

describe("device model through xl: console and soft reset with device state kept", () => {
  const dir = tempDir("xensim-dm-xl-");
  after(() => dir.cleanup());

  it("boots with two emulators, shows the banner in xl console, keeps device state across two soft resets", async () => {
    const stateDir = join(dir.path, "state");
    const examples = join(dir.path, "examples");
    mkdirSync(examples);
    const cfg = join(dir.path, "dm1.cfg");
    writeFileSync(
      cfg,
      [
        'name = "dm1"',
        "memory = 32",
        "vcpus = 2",
        "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=16M' ]",
        'device_model_args = [ "-device", "pci-serial" ]',
        'xensim_firmware = "bios,heartbeat-ms=300"',
        "",
      ].join("\n"),
    );
    const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--examples", examples]);
    try {
      await waitFor(() => /toolstack: http/.test(up.output()), {
        timeoutMs: 150_000,
        message: () => `xensim up: ${up?.output()}`,
      });
      const created = await xl(stateDir, ["create", cfg]);
      assert.equal(created.status, 0, created.stderr);
      const domid = Number(/Domain (\d+) \(dm1\) created/.exec(created.stdout)![1]);
      const console0 = async () => (await xl(stateDir, ["console", "dm1", "--once"])).stdout;
      await waitFor(async () => (await console0()).includes("xensim BIOS: boot done"), {
        timeoutMs: 30_000,
        message: "the BIOS banner in xl console",
      });
      const first = await console0();
      assert.match(first, /^xensim BIOS: booting dm1 \(boot 1\)\r\n/);
      assert.match(first, /PCI 00:04\.0 1b36:0002 class 070002/);
      assert.match(first, /VGA: drew 320x200, 8\/8 pixels read back/);
      // The BIOS wrote its banner into the VGA text buffer too: `xl vga` prints it, `--png` renders it.
      const vga = await xl(stateDir, ["vga", "dm1"]);
      assert.equal(vga.status, 0, vga.stderr);
      const vgaLines = vga.stdout.split("\n");
      assert.equal(vgaLines[0], "xensim BIOS: booting dm1 (boot 1)");
      assert.match(vga.stdout, /^RTC: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
      assert.match(vga.stdout, /^xensim BIOS: boot done$/m);
      const pngFile = join(stateDir, "vga.png");
      const png = await xl(stateDir, ["vga", "dm1", "--png", pngFile]);
      assert.equal(png.status, 0, png.stderr);
      const img = PNG.sync.read(readFileSync(pngFile));
      assert.deepEqual([img.width, img.height], [640, 400], "80×25 cells of 8×16");
      // Row 0 is the banner: white on blue (attribute 0x1f); some pixels of its first cell are white.
      const px = (x: number, y: number) => [...img.data.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3)];
      assert.deepEqual(px(0, 0), [0x00, 0x00, 0xaa], "banner background");
      let white = 0;
      for (let y = 0; y < 16; y++) for (let x = 0; x < 8; x++) if (px(x, y)[0] === 0xff) white++;
      assert.ok(white > 10, `the 'x' of the banner is drawn (${white} pixels)`);
      const serial1 = await xl(stateDir, ["console", "-n", "1", "dm1", "--once"]);
      assert.equal(serial1.status, 0, serial1.stderr);
      assert.match(serial1.stdout, /^hello from dm1 on the PCI serial port 00:04\.0/);
      assert.equal(
        (await xl(stateDir, ["console", "-n", "7", "dm1", "--once"])).status,
        1,
        "no serial port 7",
      );
      await waitFor(
        async () =>
          /xvda\s+\d+\s+0\s+Connected\/Connected/.test((await xl(stateDir, ["block-list", "dm1"])).stdout),
        {
          timeoutMs: 20_000,
          message: "disk connected",
        },
      );
      const sock = join(stateDir, "xenstored.sock");
      const storePort = () =>
        haveBinary("xenstore-read")
          ? xenstoreTool(sock, "xenstore-read", [`/local/domain/${domid}/store/port`]).stdout.trim()
          : "";
      const port0 = storePort();

      // Soft reset 1: the state the toolstack saved before it.
      const t1 = await xl(stateDir, ["trigger", "dm1", "soft-reset"]);
      assert.equal(t1.status, 0, t1.stderr);
      await waitFor(async () => /boot 2, after kexec[\s\S]*xensim BIOS: boot done/.test(await console0()), {
        timeoutMs: 30_000,
        message: "the kexec'd boot",
      });
      const afterFirst = await console0();
      assert.match(afterFirst, /device state after kexec: uart kept, rtc kept, pci kept, framebuffer kept/);
      assert.ok(
        afterFirst.startsWith(first.slice(0, first.indexOf("xensim BIOS: boot done"))),
        "the UART output from before the reset is still there",
      );
      const list = await xl(stateDir, ["list"]);
      assert.match(list.stdout, new RegExp(`dm1\\s+${domid}\\s+32\\s+2\\s+`), "same domid");
      // A new store channel (alloc_unbound after the reset closed the old one): the lowest free port,
      // so usually the same number; the home was written again.
      if (port0) assert.match(storePort(), /^\d+$/, "store/port rewritten");
      await waitFor(
        async () =>
          /xvda\s+\d+\s+0\s+Connected\/Connected/.test((await xl(stateDir, ["block-list", "dm1"])).stdout),
        {
          timeoutMs: 20_000,
          message: "the disk reconnected from Initialising",
        },
      );
      const save = (role: string) =>
        JSON.parse(
          readFileSync(
            join(stateDir, "lib", `qemu-save.${domid}${role === "primary" ? "" : `.${role}`}`),
            "utf8",
          ),
        ) as Saved;
      const before = { primary: save("primary"), secondary: save("secondary") };

      // Soft reset 2: what the emulators held after reset 1 and the kexec'd boot.
      const t2 = await xl(stateDir, ["trigger", "dm1", "soft-reset"]);
      assert.equal(t2.status, 0, t2.stderr);
      await waitFor(async () => /boot 3, after kexec[\s\S]*xensim BIOS: boot done/.test(await console0()), {
        timeoutMs: 30_000,
        message: "the second kexec'd boot",
      });
      const afterState = { primary: save("primary"), secondary: save("secondary") };
      for (const role of ["primary", "secondary"] as const) {
        const b = before[role];
        const a = afterState[role];
        assert.deepEqual(a.pci, b.pci, `${role}: PCI configuration spaces`);
        b.serials.forEach((u, i) => {
          const v = a.serials[i]!;
          assert.deepEqual(
            [v.dll, v.dlm, v.ier, v.lcr, v.mcr, v.scr, v.fcr],
            [u.dll, u.dlm, u.ier, u.lcr, u.mcr, u.scr, u.fcr],
            `${role}: UART registers`,
          );
          const log0 = Buffer.from(u.log, "base64").toString();
          assert.ok(
            Buffer.from(v.log, "base64").toString().startsWith(log0.slice(0, 2000)),
            `${role}: UART output kept`,
          );
        });
      }
      // Video memory kept: all of it but the text screen (0xB8000), which the kexec'd BIOS writes anew.
      const graphics = (st: Saved) => {
        const v = Buffer.from(st.vga!.vram, "base64");
        v.fill(0, 0x18000, 0x18000 + 80 * 25 * 2);
        return v;
      };
      assert.ok(graphics(afterState.primary).equals(graphics(before.primary)), "framebuffer memory");
      assert.deepEqual(afterState.primary.vga!.palette, before.primary.vga!.palette, "palette");
      const cmos = (s: Saved) => s.rtc!.cmos.map((v, i) => (i === 0x40 ? -1 : v));
      assert.deepEqual(cmos(afterState.primary), cmos(before.primary), "CMOS (but the BIOS's boot counter)");
      assert.deepEqual(
        [before.primary.rtc!.cmos[0x40], afterState.primary.rtc!.cmos[0x40]],
        [1, 2],
        "the boot counter, one boot apart",
      );

      const d = await xl(stateDir, ["destroy", "dm1"]);
      assert.equal(d.status, 0, d.stderr);
      assert.doesNotMatch((await xl(stateDir, ["list"])).stdout, /dm1/);
      if (haveBinary("xenstore-ls")) {
        const ls = xenstoreTool(sock, "xenstore-ls", ["/local/domain/0/device-model"]);
        assert.doesNotMatch(ls.stdout, new RegExp(`^${domid} `, "m"), "no device-model node left");
      }
    } finally {
      await up.stop();
    }
  });
});
