// xlcfg: xl.cfg files as the toolstack parses them; errors carry positions, and every disk formats
// to a spec that parses back to it.
import { formatDiskSpec, parseDiskSpec, parseXlCfg } from "@xensim/xlcfg";
import type { FuzzTarget } from "../target.js";
import { must } from "../invariant.js";

const XLCFG_SEEDS = [
  [
    'name = "guest1"',
    'type = "hvm"',
    "memory = 64",
    "vcpus = 2",
    "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=64M', 'xvdb, ro, target=file:path=a.raw,size=8M' ]",
    'on_poweroff = "destroy"',
    'on_reboot = "restart"',
    'on_crash = "preserve"',
    'on_soft_reset = "soft-reset"',
    'xensim_workload = "rw=randrw,bs=4k,iodepth=16,size=32m,runtime=30,verify=crc32c"',
    'xensim_blkfront = "ring-page-order=4,queues=4"',
  ].join("\n"),
  'name="a"\nmemory=8\ndisk=["vdev=xvdz, target=array:profile=iscsi-array,size=1G,seed=7,data=null"]\n',
  "# comment\nname = 'b' # trailing\nmaxmem = 16\nmemory = 8\nuuid = \"1b4e28ba-2fa1-11d2-883f-0016d3cca427\"\n",
  'name = "c"\nmemory = 8\ndisk = [ "/img/x.raw,raw,xvdc,w", "vdev=xvdd, devtype=cdrom, target=" ]\nbogus = [1, "x", [2]]\n',
].map((s) => new TextEncoder().encode(s));

export const xlcfgTarget: FuzzTarget = {
  name: "xlcfg",
  description: "xl.cfg files (xl.cfg(5), xl-disk-configuration(5)) as the toolstack parses them",
  corpusDir: "packages/xlcfg/src/fuzz-corpus/xlcfg",
  maxLength: 16 * 1024,
  seeds: () => XLCFG_SEEDS,
  run(input) {
    const text = new TextDecoder("utf-8", { fatal: false }).decode(input);
    const r = parseXlCfg(text, { file: "fuzz.cfg", maxMemoryMib: 4096 });
    if (!r.ok) {
      must(r.errors.length > 0, "a refusal has errors");
      for (const e of r.errors)
        must(e.line >= 1 && e.column >= 1 && e.message.length > 0, "errors carry positions");
      return;
    }
    must(r.config.name.length > 0, "a config has a name");
    for (const d of r.config.disks) {
      const again = parseDiskSpec(formatDiskSpec(d));
      must("disk" in again, `disk ${d.vdev} formats to a spec that parses`);
      if ("disk" in again)
        must(JSON.stringify(again.disk) === JSON.stringify(d), `disk ${d.vdev} round-trips`);
    }
  },
};
