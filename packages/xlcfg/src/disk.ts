// xl-disk-configuration(5): one disk spec string. Items are comma-separated `key=value` pairs or
// positional values (target, format, vdev, access, in that order); `target=` must come last and
// takes the rest of the string, commas and all. Our targets: a blkstore spec (`memory:size=64M`,
// `null:size=1G`, `array:profile=iscsi-array,size=1G,seed=7,data=null`,
// `file:path=img.raw,size=64M` — created with that size if missing) or a path to a raw image file.
import { vbdDevid } from "@xensim/libxl";
import { suggest } from "./suggest.js";

export type DiskAccess = "r" | "w";

export interface XlDisk {
  /** Guest device name, e.g. "xvda". */
  readonly vdev: string;
  /** Its devid (virtual-device), from vdev. */
  readonly devid: number;
  /** As given (store spec or path); becomes the backend's `params`. */
  readonly target: string;
  /** "store" when target is a blkstore spec, "file" for a path to a raw image. */
  readonly targetKind: "store" | "file";
  readonly format: "raw";
  readonly access: DiskAccess;
  readonly devtype: "disk" | "cdrom";
  /** Backend `type` key: phy (default), qdisk, tap. */
  readonly backendtype: "phy" | "qdisk" | "tap";
  /** Backend domain (default 0). */
  readonly backend: number;
  readonly discard: boolean;
}

/** A problem with a disk spec; `offset` is the 0-based index into the spec string. */
export interface DiskSpecProblem {
  readonly offset: number;
  readonly message: string;
  readonly expected?: string;
}

const STORE_KINDS = ["memory", "null", "array", "file"] as const;
const POSITIONAL = ["target", "format", "vdev", "access"] as const;
const KEYS = [
  "target",
  "format",
  "vdev",
  "access",
  "mode",
  "devtype",
  "backendtype",
  "backend",
  "discard",
  "no-discard",
  "cdrom",
  "script",
] as const;

/** Parses one disk spec; returns the disk or every problem found. */
export function parseDiskSpec(spec: string): { disk: XlDisk } | { problems: DiskSpecProblem[] } {
  const problems: DiskSpecProblem[] = [];
  const bad = (offset: number, message: string, expected?: string) =>
    problems.push({ offset, message, ...(expected ? { expected } : {}) });
  const kv = new Map<string, { value: string; offset: number }>();
  let positional = 0;
  let pos = 0;
  while (pos <= spec.length) {
    // leading blanks of an item
    while (pos < spec.length && /\s/.test(spec[pos]!)) pos++;
    const start = pos;
    let comma = spec.indexOf(",", pos);
    if (comma < 0) comma = spec.length;
    let item = spec.slice(pos, comma);
    const eq = item.indexOf("=");
    const key = eq < 0 ? undefined : item.slice(0, eq).trim();
    if (key === "target") {
      // target= takes the rest of the spec
      item = spec.slice(pos);
      comma = spec.length;
    }
    const trimmed = item.trim();
    if (trimmed === "") {
      if (comma < spec.length || start > 0) bad(start, "empty item", "key=value or a positional value");
    } else if (key === undefined) {
      if (trimmed === "cdrom") kv.set("devtype", { value: "cdrom", offset: start });
      else if (trimmed === "discard" || trimmed === "no-discard")
        kv.set("discard", { value: trimmed === "discard" ? "1" : "0", offset: start });
      else if (positional >= POSITIONAL.length)
        bad(start, `too many positional values ('${trimmed}')`, "at most target, format, vdev, access");
      else {
        const k = POSITIONAL[positional++]!;
        if (kv.has(k)) bad(start, `${k} given twice`);
        kv.set(k, { value: trimmed, offset: start });
      }
    } else {
      const value = item.slice(eq + 1).trim();
      if (!(KEYS as readonly string[]).includes(key))
        bad(
          start,
          `unknown disk key '${key}'${suggest(key, KEYS) ? ` (did you mean '${suggest(key, KEYS)}'?)` : ""}`,
          KEYS.join(", "),
        );
      else if (kv.has(key === "mode" ? "access" : key)) bad(start, `${key} given twice`);
      else kv.set(key === "mode" ? "access" : key, { value, offset: start + eq + 1 });
    }
    if (comma >= spec.length) break;
    pos = comma + 1;
  }

  const get = (k: string) => kv.get(k);
  const format = get("format");
  if (format && format.value !== "raw" && format.value !== "")
    bad(
      format.offset,
      `format '${format.value}' is not supported (xensim backends serve raw images)`,
      "format=raw",
    );
  const accessRaw = get("access")?.value ?? "rw";
  let access: DiskAccess = "w";
  if (accessRaw === "r" || accessRaw === "ro") access = "r";
  else if (accessRaw === "rw" || accessRaw === "w") access = "w";
  else bad(get("access")!.offset, `access '${accessRaw}' is not valid`, "r, ro, rw or w");
  const devtypeRaw = get("devtype")?.value ?? "disk";
  if (devtypeRaw !== "disk" && devtypeRaw !== "cdrom")
    bad(get("devtype")!.offset, `devtype '${devtypeRaw}' is not valid`, "disk or cdrom");
  const devtype = devtypeRaw === "cdrom" ? "cdrom" : "disk";
  const btRaw = get("backendtype")?.value ?? "phy";
  if (btRaw !== "phy" && btRaw !== "qdisk" && btRaw !== "tap")
    bad(get("backendtype")!.offset, `backendtype '${btRaw}' is not valid`, "phy, qdisk or tap");
  const backendRaw = get("backend")?.value ?? "0";
  const backend = /^\d+$/.test(backendRaw) ? Number(backendRaw) : Number.NaN;
  if (!Number.isInteger(backend) || backend >= 0x7ff0)
    bad(
      get("backend")!.offset,
      `backend '${backendRaw}' is not a domid`,
      "a domain id (names are not supported)",
    );
  if (get("script")) bad(get("script")!.offset, "hotplug scripts are not supported", "no script= key");
  const discard = get("discard")?.value !== "0";

  const vdevItem = get("vdev");
  let devid = -1;
  if (!vdevItem || vdevItem.value === "") bad(spec.length, "missing vdev", "vdev=xvdX");
  else
    try {
      if (!/^xvd[a-z]+$/.test(vdevItem.value)) throw new RangeError("not xvd");
      devid = vbdDevid(vdevItem.value);
    } catch {
      bad(
        vdevItem.offset,
        `vdev '${vdevItem.value}' is not a Xen virtual disk name`,
        "xvda, xvdb, …, xvdaa, …",
      );
    }

  const targetItem = get("target");
  const target = targetItem?.value ?? "";
  let targetKind: XlDisk["targetKind"] = "file";
  if (target === "") {
    if (devtype !== "cdrom")
      bad(targetItem?.offset ?? spec.length, "missing target", "target=<store spec or path>");
  } else {
    const m = /^([a-z]+):(.*)$/.exec(target);
    if (m) {
      const kind = m[1]!;
      targetKind = "store";
      if (!(STORE_KINDS as readonly string[]).includes(kind))
        bad(targetItem!.offset, `unknown store kind '${kind}'`, STORE_KINDS.join(", "));
      else {
        const keys = new Set(
          m[2]!
            .split(",")
            .map((p) => p.split("=")[0]!.trim())
            .filter((k) => k !== ""),
        );
        if (kind === "file" && !keys.has("path"))
          bad(targetItem!.offset, "file store without path", "file:path=<image>[,size=<n>M]");
        if (kind !== "file" && !keys.has("size"))
          bad(targetItem!.offset, `${kind} store without size`, `${kind}:size=<n>[K|M|G]`);
      }
    } else if (/[\0\n]/.test(target)) bad(targetItem!.offset, "target has control characters", "a path");
  }

  if (problems.length > 0) return { problems };
  return {
    disk: {
      vdev: vdevItem!.value,
      devid,
      target,
      targetKind,
      format: "raw",
      access,
      devtype,
      backendtype: btRaw as XlDisk["backendtype"],
      backend,
      discard,
    },
  };
}

/** The canonical spec string of a disk (parses back to the same disk). */
export function formatDiskSpec(d: XlDisk): string {
  return [
    `format=raw`,
    `vdev=${d.vdev}`,
    `access=${d.access === "r" ? "ro" : "rw"}`,
    ...(d.devtype === "cdrom" ? ["devtype=cdrom"] : []),
    ...(d.backendtype !== "phy" ? [`backendtype=${d.backendtype}`] : []),
    ...(d.backend !== 0 ? [`backend=${d.backend}`] : []),
    ...(d.discard ? [] : ["no-discard"]),
    `target=${d.target}`,
  ].join(", ");
}
