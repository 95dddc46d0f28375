// An xl.cfg file → a validated DomainConfig, or every error with its position.
import type { FioJobSpec } from "@xensim/workload";
import { parseDiskSpec, type XlDisk } from "./disk.js";
import type { XlCfgError } from "./errors.js";
import { parseSettings, type XlSetting, type XlValue } from "./parser.js";
import { suggest } from "./suggest.js";
import { parseVdisplSpec, type XlVdispl } from "./vdispl.js";
import { parseWorkload } from "./workload.js";

/** What to do when the domain shuts down with a reason (xl.cfg on_poweroff, …). */
export type XlAction = "destroy" | "restart" | "preserve" | "soft-reset";

export interface DomainConfig {
  readonly name: string;
  /** As given, or undefined (the toolstack makes one). */
  readonly uuid: string | undefined;
  readonly type: "pv" | "hvm";
  readonly memoryMib: number;
  readonly maxmemMib: number;
  readonly vcpus: number;
  readonly disks: readonly XlDisk[];
  readonly onPoweroff: XlAction;
  readonly onReboot: XlAction;
  readonly onWatchdog: XlAction;
  readonly onCrash: XlAction;
  readonly onSoftReset: XlAction;
  /** xensim_workload, parsed (undefined: none, or "idle"); the original string in `workloadText`. */
  readonly workload: FioJobSpec | undefined;
  /** The disk the workload runs on (`vdev=` in the job; default the first disk). */
  readonly workloadVdev: string | undefined;
  readonly workloadText: string | undefined;
  /** xensim_blkfront: the guest's frontend settings ("ring-page-order=4,queues=4,…"), as given. */
  readonly blkfrontText: string | undefined;
  /** vdispl: the virtual displays (devid = index). */
  readonly vdispls: readonly XlVdispl[];
  /**
   * device_model_version: "qemu-xen" (xl's default for HVM: a device model runs when the toolstack
   * has one) or "none" (xensim: no device model for this HVM domain).
   */
  readonly deviceModelVersion?: "qemu-xen" | "none";
  /** device_model_args: extra emulator arguments; "-device pci-serial" adds the second emulator. */
  readonly deviceModelArgs?: readonly string[];
  /** xensim_firmware: the BIOS options the guest's vCPUs run with (default "bios" with a device model). */
  readonly firmwareText?: string;
}

/** The emulators a config asks for ("primary" = the guest's qemu; "secondary" = -device pci-serial). */
export function deviceModelRoles(c: DomainConfig): ("primary" | "secondary")[] {
  if (c.type !== "hvm" || c.deviceModelVersion === "none") return [];
  const args = c.deviceModelArgs ?? [];
  const serial = args.some((a, i) => a === "pci-serial" && args[i - 1] === "-device");
  return serial ? ["primary", "secondary"] : ["primary"];
}

export interface ParseOptions {
  /** Reported in errors (default "<config>"). */
  file?: string;
  /** The host's limit for `memory` / `maxmem`, MiB (default 1 TiB). */
  maxMemoryMib?: number;
  /** Most vCPUs a domain may have (default 128). */
  maxVcpus?: number;
  /**
   * A further check of each disk target (e.g. a full blkstore spec parse): a message, or undefined
   * when fine.
   */
  checkTarget?: (target: string, disk: XlDisk) => string | undefined;
}

export type ParseResult = { ok: true; config: DomainConfig } | { ok: false; errors: XlCfgError[] };

const ACTIONS: Record<string, XlAction | string> = {
  destroy: "destroy",
  restart: "restart",
  preserve: "preserve",
  "soft-reset": "soft-reset",
  "rename-restart": "rename-restart is not supported (no renaming of the old domain)",
  "coredump-destroy": "coredump-* actions are not supported (no core dumps)",
  "coredump-restart": "coredump-* actions are not supported (no core dumps)",
};

export const KNOWN_KEYS = [
  "name",
  "uuid",
  "type",
  "builder",
  "memory",
  "maxmem",
  "vcpus",
  "maxvcpus",
  "disk",
  "on_poweroff",
  "on_reboot",
  "on_watchdog",
  "on_crash",
  "on_soft_reset",
  "xensim_workload",
  "xensim_blkfront",
  "device_model_version",
  "device_model_args",
  "device_model_args_hvm",
  "xensim_firmware",
  "vdispl",
] as const;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Parses and checks an xl.cfg file. Every error is reported, in file order. */
export function parseXlCfg(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? "<config>";
  const maxMem = options.maxMemoryMib ?? 1 << 20;
  const maxVcpus = options.maxVcpus ?? 128;
  const errors: XlCfgError[] = [];
  const settings = parseSettings(text, file, errors);
  const at = (s: { line: number; column: number }, message: string, expected?: string) =>
    errors.push({ file, line: s.line, column: s.column, message, ...(expected ? { expected } : {}) });

  const byKey = new Map<string, XlSetting>();
  for (const s of settings) {
    if (!(KNOWN_KEYS as readonly string[]).includes(s.key)) {
      const near = suggest(s.key, KNOWN_KEYS);
      at(
        s,
        `unknown setting '${s.key}'${near ? ` (did you mean '${near}'?)` : ""}`,
        `one of ${KNOWN_KEYS.join(", ")}`,
      );
      continue;
    }
    const prev = byKey.get(s.key);
    if (prev) {
      at(s, `'${s.key}' set twice (first at line ${prev.line})`, "each setting once");
      continue;
    }
    byKey.set(s.key, s);
  }
  const str = (key: string): { v: string; s: XlValue } | undefined => {
    const s = byKey.get(key);
    if (!s) return undefined;
    if (s.value.kind !== "string") {
      at(s.value, `'${key}' must be a string`, `${key} = "…"`);
      return undefined;
    }
    return { v: s.value.value, s: s.value };
  };
  const int = (key: string, expected: string, min: number, max: number): number | undefined => {
    const s = byKey.get(key);
    if (!s) return undefined;
    let n: number;
    if (s.value.kind === "number") n = s.value.value;
    else if (s.value.kind === "string" && /^-?\d+$/.test(s.value.value.trim())) n = Number(s.value.value);
    else {
      at(s.value, `'${key}' must be a number`, expected);
      return undefined;
    }
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      at(s.value, `${key} ${n} is out of range`, expected);
      return undefined;
    }
    return n;
  };

  // name
  const nameS = str("name");
  let name = "";
  if (!byKey.has("name"))
    errors.push({ file, line: 1, column: 1, message: "missing 'name'", expected: 'name = "…"' });
  else if (nameS) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(nameS.v) || /^\d+$/.test(nameS.v))
      at(nameS.s, `name '${nameS.v}' is not valid`, "1-64 of A-Z a-z 0-9 _ . -, not all digits");
    else name = nameS.v;
  }
  const uuidS = str("uuid");
  if (uuidS && !UUID_RE.test(uuidS.v))
    at(uuidS.s, `uuid '${uuidS.v}' is not valid`, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");

  // type / builder. Default HVM (xl's is PV): xensim guests are Xen-aware HVM guests that find their
  // store page and event channel in HVM_PARAM_STORE_PFN / _EVTCHN, which PV domains do not have.
  let type: "pv" | "hvm" = "hvm";
  const typeS = str("type");
  const builderS = str("builder");
  if (typeS && builderS)
    at(builderS.s, "both 'type' and 'builder' given", "only type (builder is deprecated)");
  if (typeS) {
    if (typeS.v === "pv" || typeS.v === "hvm") type = typeS.v;
    else if (typeS.v === "pvh") at(typeS.s, "type 'pvh' is not supported", "pv or hvm");
    else at(typeS.s, `type '${typeS.v}' is not valid`, "pv or hvm");
  } else if (builderS) {
    if (builderS.v === "generic") type = "pv";
    else if (builderS.v !== "hvm") at(builderS.s, `builder '${builderS.v}' is not valid`, "generic or hvm");
  }

  // memory
  const memExpected = `an integer number of MiB in 1..${maxMem}`;
  const memory = int("memory", memExpected, 1, maxMem);
  const maxmem = int("maxmem", memExpected, 1, maxMem);
  const memoryMib = memory ?? (byKey.has("memory") ? 0 : 128);
  if (memory !== undefined && maxmem !== undefined && maxmem < memory)
    at(byKey.get("maxmem")!.value, `maxmem ${maxmem} is below memory ${memory}`, `at least ${memory}`);
  const vcpus = int("vcpus", `an integer in 1..${maxVcpus}`, 1, maxVcpus) ?? 1;
  const maxvcpus = int("maxvcpus", `an integer in 1..${maxVcpus}`, 1, maxVcpus);
  if (maxvcpus !== undefined && maxvcpus < vcpus)
    at(byKey.get("maxvcpus")!.value, `maxvcpus ${maxvcpus} is below vcpus ${vcpus}`, `at least ${vcpus}`);

  // on_* actions
  const action = (key: string, dflt: XlAction): XlAction => {
    const s = str(key);
    if (!s) return dflt;
    const a = ACTIONS[s.v];
    if (a === undefined) {
      at(s.s, `${key} '${s.v}' is not valid`, "destroy, restart, preserve or soft-reset");
      return dflt;
    }
    if (a.includes(" ")) {
      at(s.s, `${key} '${s.v}': ${a}`, "destroy, restart, preserve or soft-reset");
      return dflt;
    }
    if (a === "soft-reset" && key !== "on_soft_reset") {
      at(s.s, `${key} 'soft-reset' is only meaningful for on_soft_reset`, "destroy, restart or preserve");
      return dflt;
    }
    return a as XlAction;
  };
  const onPoweroff = action("on_poweroff", "destroy");
  const onReboot = action("on_reboot", "restart");
  const onWatchdog = action("on_watchdog", "destroy");
  const onCrash = action("on_crash", "destroy");
  const onSoftReset = action("on_soft_reset", "soft-reset");
  if (onSoftReset === "soft-reset" && type !== "hvm" && byKey.has("on_soft_reset"))
    at(byKey.get("on_soft_reset")!.value, "on_soft_reset 'soft-reset' needs an HVM domain", 'type = "hvm"');

  // disks
  const disks: XlDisk[] = [];
  const diskS = byKey.get("disk");
  if (diskS) {
    if (diskS.value.kind !== "list") at(diskS.value, "'disk' must be a list", "disk = [ '…', '…' ]");
    else {
      const seenVdev = new Map<string, number>();
      for (const item of diskS.value.items) {
        if (item.kind !== "string") {
          at(item, "a disk must be a string", "'format=raw, vdev=xvda, access=rw, target=…'");
          continue;
        }
        const r = parseDiskSpec(item.value);
        // columns inside the string: +1 for the opening quote (exact for strings without escapes)
        if ("problems" in r) {
          for (const p of r.problems)
            errors.push({
              file,
              line: item.line,
              column: item.column + 1 + p.offset,
              message: `disk: ${p.message}`,
              ...(p.expected ? { expected: p.expected } : {}),
            });
          continue;
        }
        const d = r.disk;
        const dup = seenVdev.get(d.vdev);
        if (dup !== undefined) {
          at(item, `disk: vdev ${d.vdev} used twice (first at line ${dup})`, "distinct vdevs");
          continue;
        }
        seenVdev.set(d.vdev, item.line);
        const extra = options.checkTarget?.(d.target, d);
        if (extra !== undefined) {
          at(item, `disk ${d.vdev}: ${extra}`, "a valid store spec or image path");
          continue;
        }
        disks.push(d);
      }
    }
  }

  // workload
  let workload: FioJobSpec | undefined;
  let workloadVdev: string | undefined;
  const wlS = str("xensim_workload");
  if (wlS) {
    const r = parseWorkload(wlS.v);
    if ("problems" in r)
      for (const p of r.problems)
        errors.push({
          file,
          line: wlS.s.line,
          column: wlS.s.column + 1 + p.offset,
          message: `xensim_workload: ${p.message}`,
          ...(p.expected ? { expected: p.expected } : {}),
        });
    else if (r.job !== undefined) {
      workload = r.job;
      workloadVdev = r.vdev;
      if (disks.length === 0) at(wlS.s, "xensim_workload needs a disk to run on", "a disk = [ … ] setting");
      else if (r.vdev !== undefined && !disks.some((d) => d.vdev === r.vdev))
        at(
          wlS.s,
          `xensim_workload: vdev ${r.vdev} is not one of the disks`,
          disks.map((d) => d.vdev).join(", "),
        );
    }
  }
  const bfS = str("xensim_blkfront");
  if (bfS) {
    for (const part of bfS.v.split(",")) {
      const [k, v] = part.split("=").map((x) => x.trim());
      const keys = [
        "ring-page-order",
        "max-ring-page-order",
        "queues",
        "max-queues",
        "indirect-segments",
        "max-indirect-segments",
        "persistent",
      ];
      if (!keys.includes(k ?? "") || v === undefined || !/^\d+$/.test(v))
        at(
          bfS.s,
          `xensim_blkfront: '${part.trim()}' is not valid`,
          `key=<integer> with key one of ${keys.join(", ")}`,
        );
    }
  }

  // device model (libxl's device_model_* keys that mean something here)
  let deviceModelVersion: "qemu-xen" | "none" | undefined;
  const dmvS = str("device_model_version");
  if (dmvS) {
    if (dmvS.v === "qemu-xen" || dmvS.v === "none") deviceModelVersion = dmvS.v;
    else if (dmvS.v === "qemu-xen-traditional")
      at(dmvS.s, "device_model_version 'qemu-xen-traditional' is not supported", "qemu-xen or none");
    else at(dmvS.s, `device_model_version '${dmvS.v}' is not valid`, "qemu-xen or none");
    if (type !== "hvm" && dmvS.v !== "none") at(dmvS.s, "a device model needs an HVM domain", 'type = "hvm"');
  }
  const deviceModelArgs: string[] = [];
  for (const key of ["device_model_args", "device_model_args_hvm"]) {
    const a = byKey.get(key);
    if (!a) continue;
    if (a.value.kind !== "list") {
      at(a.value, `'${key}' must be a list`, `${key} = [ "-device", "pci-serial" ]`);
      continue;
    }
    for (const item of a.value.items) {
      if (item.kind !== "string") at(item, `${key}: each argument must be a string`, '"-device"');
      else deviceModelArgs.push(item.value);
    }
  }
  for (let i = 0; i < deviceModelArgs.length; i++) {
    const arg = deviceModelArgs[i]!;
    const where = byKey.get("device_model_args") ?? byKey.get("device_model_args_hvm")!;
    if (arg === "-device" && deviceModelArgs[i + 1] === "pci-serial") i++;
    else at(where.value, `device_model_args: '${arg}' is not supported`, '"-device", "pci-serial"');
  }
  const fwS = str("xensim_firmware");
  const vdispls = parseVdispls(byKey.get("vdispl"), file, errors);

  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, errors };
  }
  return {
    ok: true,
    config: {
      name,
      uuid: uuidS?.v.toLowerCase(),
      type,
      memoryMib,
      maxmemMib: maxmem ?? memoryMib,
      vcpus,
      disks,
      onPoweroff,
      onReboot,
      onWatchdog,
      onCrash,
      onSoftReset,
      workload,
      workloadVdev,
      workloadText: wlS?.v,
      blkfrontText: bfS?.v,
      ...(deviceModelVersion ? { deviceModelVersion } : {}),
      ...(deviceModelArgs.length ? { deviceModelArgs } : {}),
      ...(fwS ? { firmwareText: fwS.v } : {}),
      vdispls,
    },
  };
}

/** `vdispl = [ 'backend=…,be-alloc=…,connectors=…', … ]` (xl.cfg(5)). */
function parseVdispls(s: XlSetting | undefined, file: string, errors: XlCfgError[]): XlVdispl[] {
  const out: XlVdispl[] = [];
  if (!s) return out;
  if (s.value.kind !== "list") {
    errors.push({
      file,
      line: s.value.line,
      column: s.value.column,
      message: "'vdispl' must be a list",
      expected: "vdispl = [ '…' ]",
    });
    return out;
  }
  for (const item of s.value.items) {
    if (item.kind !== "string") {
      errors.push({
        file,
        line: item.line,
        column: item.column,
        message: "a vdispl must be a string",
        expected: "'connectors=id0:1920x1080'",
      });
      continue;
    }
    const r = parseVdisplSpec(item.value);
    if ("problems" in r)
      for (const p of r.problems)
        errors.push({
          file,
          line: item.line,
          column: item.column + 1 + p.offset,
          message: `vdispl: ${p.message}`,
          ...(p.expected ? { expected: p.expected } : {}),
        });
    else out.push(r.vdispl);
  }
  return out;
}
