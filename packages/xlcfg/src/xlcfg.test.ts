import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  formatDiskSpec,
  formatXlCfgError,
  parseDiskSpec,
  parseWorkload,
  parseXlCfg,
  type XlCfgError,
} from "./index.js";

const GUEST1 = `# a guest with a memory disk and a workload
name = "guest1"
type = "hvm"
memory = 64
vcpus = 2
disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=64M',
         '/var/lib/img/data.raw,raw,xvdb,ro',   # legacy positional form
       ]
on_poweroff = "destroy"; on_reboot = "restart"
on_crash = 'preserve'
on_soft_reset = "soft-reset"
xensim_workload = "rw=randrw,bs=4k,iodepth=16,size=64m,runtime=30,verify=crc32c"
`;

function errs(text: string, options = {}): XlCfgError[] {
  const r = parseXlCfg(text, { file: "t.cfg", ...options });
  assert.equal(r.ok, false, "expected errors");
  return r.ok ? [] : r.errors;
}

describe("xl.cfg", () => {
  it("parses a full config (golden)", () => {
    const r = parseXlCfg(GUEST1, { file: "guest1.cfg", maxMemoryMib: 1024 });
    assert.ok(r.ok, r.ok ? "" : r.errors.map(formatXlCfgError).join("\n"));
    assert.deepEqual(r.config, {
      name: "guest1",
      uuid: undefined,
      type: "hvm",
      memoryMib: 64,
      maxmemMib: 64,
      vcpus: 2,
      disks: [
        {
          vdev: "xvda",
          devid: 51712,
          target: "memory:size=64M",
          targetKind: "store",
          format: "raw",
          access: "w",
          devtype: "disk",
          backendtype: "phy",
          backend: 0,
          discard: true,
        },
        {
          vdev: "xvdb",
          devid: 51728,
          target: "/var/lib/img/data.raw",
          targetKind: "file",
          format: "raw",
          access: "r",
          devtype: "disk",
          backendtype: "phy",
          backend: 0,
          discard: true,
        },
      ],
      onPoweroff: "destroy",
      onReboot: "restart",
      onWatchdog: "destroy",
      onCrash: "preserve",
      onSoftReset: "soft-reset",
      workload: {
        rw: "randrw",
        bs: 4096,
        iodepth: 16,
        size: 64 << 20,
        runtimeMs: 30_000,
        verify: "crc32c",
      },
      workloadVdev: undefined,
      workloadText: "rw=randrw,bs=4k,iodepth=16,size=64m,runtime=30,verify=crc32c",
      blkfrontText: undefined,
      vdispls: [],
    });
  });

  it("reports every error with file, line, column and what was expected (golden)", () => {
    const text = [
      'name = "g"', // 1
      "memory = 0", // 2
      "vcpus = 2", // 3
      "vcpus = 3", // 4
      'colour = "blue"', // 5
      "disk = [ 'format=qcow2, vdev=xvda, target=/x', 'vdev=sda, target=/y' ]", // 6
      'on_crash = "rename-restart"', // 7
      'on_reboot = "coredump-destroy"', // 8
      "maxmem = 99999", // 9
      'type = "pvh"', // 10
      "xensim_workload = 'rw=sideways,bs=3'", // 11
      "memory += 4", // 12
    ].join("\n");
    const lines = errs(text, { maxMemoryMib: 4096 }).map(formatXlCfgError);
    assert.deepEqual(lines, [
      "t.cfg:2:10: memory 0 is out of range (expected an integer number of MiB in 1..4096)",
      "t.cfg:4:1: 'vcpus' set twice (first at line 3) (expected each setting once)",
      "t.cfg:5:1: unknown setting 'colour' (expected one of name, uuid, type, builder, memory, maxmem, vcpus, maxvcpus, disk, on_poweroff, on_reboot, on_watchdog, on_crash, on_soft_reset, xensim_workload, xensim_blkfront, device_model_version, device_model_args, device_model_args_hvm, xensim_firmware, vdispl)",
      "t.cfg:6:18: disk: format 'qcow2' is not supported (xensim backends serve raw images) (expected format=raw)",
      "t.cfg:6:54: disk: vdev 'sda' is not a Xen virtual disk name (expected xvda, xvdb, …, xvdaa, …)",
      "t.cfg:7:12: on_crash 'rename-restart': rename-restart is not supported (no renaming of the old domain) (expected destroy, restart, preserve or soft-reset)",
      "t.cfg:8:13: on_reboot 'coredump-destroy': coredump-* actions are not supported (no core dumps) (expected destroy, restart, preserve or soft-reset)",
      "t.cfg:9:10: maxmem 99999 is out of range (expected an integer number of MiB in 1..4096)",
      "t.cfg:10:8: type 'pvh' is not supported (expected pv or hvm)",
      "t.cfg:11:23: xensim_workload: rw 'sideways' is not valid (expected read, write, randread, randwrite, randrw, rw, readwrite)",
      "t.cfg:11:35: xensim_workload: bs '3' is not valid (expected a size that is a multiple of 512 (4k, 64k, …))",
      "t.cfg:12:8: '+=' (append to memory) is not supported (expected '=')",
    ]);
  });

  it("syntax errors: unterminated strings, missing '=', bad lists; parsing resumes on the next line", () => {
    const e = errs('name = "g\nmemory 64\ndisk = [ "a" "b" ]\nvcpus = [ [1] ]\nvcpus = 2 3\n');
    assert.deepEqual(
      e.map((x) => [x.line, x.column, x.expected]),
      [
        [1, 8, 'a closing " on the same line'],
        [2, 8, "'='"],
        [3, 14, "',' or ']'"],
        [4, 11, "a string or a number"],
        [5, 11, "end of line or ';'"],
      ],
    );
  });

  it("memory: missing name, negative, over the host, strings of digits; the default is 128", () => {
    assert.deepEqual(
      errs("memory = -5").map((x) => x.message),
      ["missing 'name'", "memory -5 is out of range"],
    );
    assert.equal(
      errs('name="a"\nmemory = 2048', { maxMemoryMib: 1024 })[0]!.expected,
      "an integer number of MiB in 1..1024",
    );
    const ok = parseXlCfg('name = "a"\nmemory = "32"');
    assert.ok(ok.ok && ok.config.memoryMib === 32);
    const d = parseXlCfg('name = "a"');
    assert.ok(
      d.ok && d.config.memoryMib === 128 && d.config.disks.length === 0 && d.config.onReboot === "restart",
    );
  });

  it("misspelt keys get a suggestion", () => {
    assert.deepEqual(
      errs('name="a"\nmemroy = 4\nvcpu = 1\nfrobnicate = 1\ndisk = ["vdev=xvda, acess=ro, target=/x"]').map(
        (e) => e.message,
      ),
      [
        "unknown setting 'memroy' (did you mean 'memory'?)",
        "unknown setting 'vcpu' (did you mean 'vcpus'?)",
        "unknown setting 'frobnicate'",
        "disk: unknown disk key 'acess' (did you mean 'access'?)",
      ],
    );
  });

  it("names: digits only, spaces and empty refused; soft-reset on PV refused", () => {
    for (const n of ["123", "a b", "", "x".repeat(65)]) assert.equal(errs(`name = "${n}"`).length, 1, n);
    assert.match(errs('name="a"\ntype="pv"\non_soft_reset="soft-reset"')[0]!.message, /HVM/);
    assert.match(errs('name="a"\nbuilder="generic"\non_soft_reset="soft-reset"')[0]!.message, /HVM/);
    assert.ok(parseXlCfg('name="a"\ntype="hvm"\non_soft_reset="soft-reset"').ok);
    assert.ok(parseXlCfg('name="a"\nbuilder="hvm"\non_soft_reset="soft-reset"').ok);
  });

  it("a checkTarget hook adds its own refusals; duplicate vdevs refused", () => {
    const e = errs(
      `name="a"\ndisk=['vdev=xvda,target=memory:size=1M','vdev=xvda,target=null:size=1G','vdev=xvdb,target=/bad']`,
      {
        checkTarget: (t: string) => (t === "/bad" ? "no such image" : undefined),
      },
    );
    assert.deepEqual(
      e.map((x) => x.message),
      ["disk: vdev xvda used twice (first at line 2)", "disk xvdb: no such image"],
    );
  });
});

describe("disk specs", () => {
  it("target= takes the rest, commas and all; mode/access synonyms; cdrom", () => {
    const r = parseDiskSpec("vdev=xvdc, access=ro, devtype=cdrom, target=array:profile=ssd,size=1G,seed=7");
    assert.ok("disk" in r);
    assert.equal(r.disk.target, "array:profile=ssd,size=1G,seed=7");
    assert.equal(r.disk.access, "r");
    assert.equal(r.disk.devtype, "cdrom");
    const m = parseDiskSpec("mode=w,vdev=xvdaa,target=file:path=a.raw,size=64M");
    assert.ok("disk" in m && m.disk.access === "w" && m.disk.devid === (1 << 28) + 26 * 256);
  });

  it("refuses unknown keys, bad access/devtype/backendtype, missing vdev/target, store specs without size", () => {
    const cases: Array<[string, RegExp]> = [
      ["vdev=xvda, colour=red, target=/x", /unknown disk key 'colour'/],
      ["vdev=xvda, access=rwx, target=/x", /access 'rwx'/],
      ["vdev=xvda, devtype=floppy, target=/x", /devtype 'floppy'/],
      ["vdev=xvda, backendtype=nbd, target=/x", /backendtype 'nbd'/],
      ["target=/x", /missing vdev/],
      ["vdev=xvda", /missing target/],
      ["vdev=xvda, target=memory:", /memory store without size/],
      ["vdev=xvda, target=file:size=1M", /file store without path/],
      ["vdev=xvda, target=tape:size=1M", /unknown store kind 'tape'/],
      ["/x,raw,xvda,rw,extra", /too many positional/],
      ["vdev=xvda, script=block, target=/x", /hotplug scripts/],
    ];
    for (const [spec, re] of cases) {
      const r = parseDiskSpec(spec);
      assert.ok("problems" in r, spec);
      assert.ok(
        r.problems.some((p) => re.test(p.message)),
        `${spec}: ${r.problems.map((p) => p.message).join("; ")}`,
      );
    }
  });

  it("property: formatDiskSpec parses back to the same disk", () => {
    const letters = fc.stringMatching(/^[a-z]{1,3}$/);
    const target = fc.oneof(
      fc.stringMatching(/^\/[a-z0-9/._-]{1,20}$/),
      fc.integer({ min: 1, max: 4096 }).map((n) => `memory:size=${n}M`),
      fc.integer({ min: 1, max: 64 }).map((n) => `array:profile=iscsi-array,size=${n}G,seed=7,data=null`),
    );
    fc.assert(
      fc.property(letters, target, fc.boolean(), fc.boolean(), fc.boolean(), (l, t, ro, cd, disc) => {
        const spec = `vdev=xvd${l}, access=${ro ? "r" : "rw"}, ${cd ? "devtype=cdrom, " : ""}${disc ? "" : "no-discard, "}target=${t}`;
        const a = parseDiskSpec(spec);
        assert.ok("disk" in a, spec);
        const b = parseDiskSpec(formatDiskSpec(a.disk));
        assert.ok("disk" in b);
        assert.deepEqual(b.disk, a.disk);
      }),
    );
  });

  it("property: arbitrary input never throws; errors always carry a position inside the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = parseXlCfg(s, { file: "f" });
        const lines = s.split("\n").length;
        if (!r.ok)
          for (const e of r.errors) {
            assert.ok(e.line >= 1 && e.line <= lines, `line ${e.line}`);
            assert.ok(e.column >= 1);
          }
        parseDiskSpec(s);
        parseWorkload(s);
      }),
      { numRuns: 500 },
    );
  });

  it("property: generated valid configs parse to what was generated", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 16 }),
        fc.constantFrom("destroy", "restart", "preserve"),
        fc.boolean(),
        (name, mem, vcpus, act, dq) => {
          const q = dq ? '"' : "'";
          const text = `name = ${q}${name}${q}\nmemory = ${mem} # MiB\nvcpus=${vcpus};on_crash=${q}${act}${q}\n`;
          const r = parseXlCfg(text, { maxMemoryMib: 4096 });
          assert.ok(r.ok, text);
          assert.equal(r.config.name, name);
          assert.equal(r.config.memoryMib, mem);
          assert.equal(r.config.vcpus, vcpus);
          assert.equal(r.config.onCrash, act);
        },
      ),
    );
  });
});

describe("workload", () => {
  it("fio units: sizes binary, runtime seconds by default", () => {
    const r = parseWorkload(
      "rw=randread,bs=64k,iodepth=32,runtime=500ms,offset=1m,rwmixread=70,randseed=9,number_ios=100",
    );
    assert.ok("job" in r);
    assert.deepEqual(r.job, {
      rw: "randread",
      bs: 65536,
      iodepth: 32,
      runtimeMs: 500,
      offset: 1 << 20,
      rwmixread: 70,
      seed: 9,
      ioLimit: 100,
    });
    const dflt = parseWorkload("vdev=/dev/xvdb,ioengine=libaio");
    assert.deepEqual(dflt, { job: { rw: "randrw", bs: 4096, iodepth: 16, runtimeMs: 30_000 }, vdev: "xvdb" });
    assert.deepEqual(parseWorkload("idle"), { job: undefined });
    const dup = parseWorkload("rw=read,rw=write,runtime=1,iodepth=0,bs=1000,verify=md5");
    assert.ok("problems" in dup);
    assert.equal(dup.problems.length, 4);
    const e = errs(
      'name="a"\ndisk=["vdev=xvda,target=null:size=1G"]\nxensim_workload="vdev=xvdz"\nxensim_blkfront="queues=x"',
    );
    assert.deepEqual(
      e.map((x) => x.message),
      ["xensim_workload: vdev xvdz is not one of the disks", "xensim_blkfront: 'queues=x' is not valid"],
    );
  });
});

describe("device model keys", () => {
  it("device_model_version, device_model_args (-device pci-serial) and xensim_firmware", async () => {
    const { deviceModelRoles } = await import("./index.js");
    const ok = parseXlCfg(
      `name = "d"\ndevice_model_args = [ "-device", "pci-serial" ]\nxensim_firmware = "bios,heartbeat-ms=50"\n`,
    );
    assert.ok(ok.ok);
    if (!ok.ok) return;
    assert.deepEqual(ok.config.deviceModelArgs, ["-device", "pci-serial"]);
    assert.equal(ok.config.firmwareText, "bios,heartbeat-ms=50");
    assert.deepEqual(deviceModelRoles(ok.config), ["primary", "secondary"]);
    const none = parseXlCfg(`name = "d"\ndevice_model_version = "none"\n`);
    assert.ok(none.ok && deviceModelRoles(none.config).length === 0);
    const plain = parseXlCfg(`name = "d"\n`);
    assert.ok(plain.ok && deviceModelRoles(plain.config).join() === "primary");
    const pv = parseXlCfg(`name = "d"\ntype = "pv"\n`);
    assert.ok(pv.ok && deviceModelRoles(pv.config).length === 0, "PV domains have no device model");
    const bad = parseXlCfg(
      `name = "d"\ndevice_model_version = "qemu-xen-traditional"\ndevice_model_args = [ "-vnc", ":0" ]\n`,
    );
    assert.ok(!bad.ok);
    if (bad.ok) return;
    assert.deepEqual(
      bad.errors.map((e) => e.message),
      [
        "device_model_version 'qemu-xen-traditional' is not supported",
        "device_model_args: '-vnc' is not supported",
        "device_model_args: ':0' is not supported",
      ],
    );
  });
});
