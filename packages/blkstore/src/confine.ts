// Disk confinement: which host files a guest disk may name. A file target resolves inside the host's
// image directory (relative paths are joined to it; no `..`; an absolute path must lie inside it),
// or is one of the host config's allow-listed paths; a block device only when the host allows them.
// Checked twice: lexically when the toolstack takes a config (xl create refuses with the reason), and
// on the real file system when blkback opens the store (realpath of what exists, O_NOFOLLOW on the
// last component, then the opened descriptor's own path and type), so a symlink planted between the
// two checks, or inside the image directory, does not lead out.
import { constants as fsConstants, readlinkSync, realpathSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open, readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from "node:path";

export interface DiskPolicy {
  /** Directory file targets live in; relative targets are joined to it. "" = none (allow-list only). */
  readonly imageDir: string;
  /** Absolute paths (files or block devices) allowed outside the image directory, exactly. */
  readonly allowList: readonly string[];
  /** Block devices may back a disk (still only inside the image directory or on the allow-list). */
  readonly allowBlockDevices: boolean;
}

export const DEFAULT_DISK_POLICY: DiskPolicy = Object.freeze({
  imageDir: "",
  allowList: Object.freeze([]) as readonly string[],
  allowBlockDevices: false,
});

/** A disk path refused by the policy; `message` says which rule and what to change. */
export class DiskPolicyError extends Error {
  override readonly name = "DiskPolicyError";
  readonly code = "EACCES";
}

function inside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r !== "" && !r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r);
}

function hasDotDot(p: string): boolean {
  return p.split(/[\\/]+/).includes("..");
}

/**
 * The lexical check: the absolute path a disk target names under `policy`, or a DiskPolicyError.
 * Touches no file system (the toolstack may run on another host than blkback).
 */
export function resolveDiskPath(target: string, policy: DiskPolicy): string {
  if (target === "" || /[\0\n\r]/.test(target))
    throw new DiskPolicyError(`disk path ${JSON.stringify(target)} is empty or has control characters`);
  if (hasDotDot(target))
    throw new DiskPolicyError(`disk path '${target}' contains '..': paths may not leave the image directory`);
  const allowed = policy.allowList.map((a) => normalize(a));
  if (isAbsolute(target)) {
    const p = normalize(target);
    if (allowed.includes(p)) return p;
    if (policy.imageDir !== "" && inside(normalize(policy.imageDir), p)) return p;
    throw new DiskPolicyError(
      policy.imageDir === ""
        ? `disk path '${target}' is not on the host's disk allow-list (no image directory is configured)`
        : `disk path '${target}' is outside the image directory ${policy.imageDir} and not on the host's disk allow-list`,
    );
  }
  if (policy.imageDir === "")
    throw new DiskPolicyError(
      `relative disk path '${target}' needs an image directory, and the host has none configured`,
    );
  return join(policy.imageDir, target);
}

async function realOrSelf(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return normalize(p);
  }
}

/** What `path` really is on this host: its realpath, or its parent's realpath + name when missing. */
async function realTarget(p: string): Promise<{ real: string; exists: boolean }> {
  try {
    return { real: await realpath(p), exists: true };
  } catch (e) {
    if ((e as { code?: unknown }).code !== "ENOENT") throw e;
    return { real: join(await realpath(dirname(p)), basename(p)), exists: false };
  }
}

/** The realpath-level rule: `real` lies inside the image directory or is an allow-listed path. */
async function checkReal(real: string, policy: DiskPolicy, named: string): Promise<void> {
  for (const a of policy.allowList) if ((await realOrSelf(a)) === real) return;
  if (policy.imageDir !== "") {
    const dir = await realOrSelf(policy.imageDir);
    if (inside(dir, real)) return;
    throw new DiskPolicyError(
      `disk path '${named}' resolves to ${real}, outside the image directory ${dir} (a symlink leads out)`,
    );
  }
  throw new DiskPolicyError(
    `disk path '${named}' resolves to ${real}, which is not on the host's allow-list`,
  );
}

function checkType(stats: Stats, policy: DiskPolicy, named: string): void {
  if (stats.isFile()) return;
  if (stats.isBlockDevice()) {
    if (policy.allowBlockDevices) return;
    throw new DiskPolicyError(
      `disk path '${named}' is a block device, and the host does not allow block devices (allowBlockDevices)`,
    );
  }
  const what = stats.isDirectory()
    ? "a directory"
    : stats.isCharacterDevice()
      ? "a character device"
      : stats.isFIFO()
        ? "a FIFO"
        : stats.isSocket()
          ? "a socket"
          : "not a regular file";
  throw new DiskPolicyError(`disk path '${named}' is ${what}: only image files (or allowed block devices)`);
}

/**
 * Both checks without opening: lexical, then on this host's file system (realpath of the file, or
 * of its directory when it does not exist yet, and the file's type). Resolves to the resolved path.
 */
export async function checkDiskPath(target: string, policy: DiskPolicy): Promise<string> {
  const p = resolveDiskPath(target, policy);
  const { real, exists } = await realTarget(p);
  await checkReal(real, policy, target);
  if (exists) checkType(await stat(real), policy, target);
  return p;
}

/** The path the kernel says an open descriptor refers to (Linux /proc), or undefined elsewhere. */
function fdPath(fh: FileHandle): string | undefined {
  try {
    const p = readlinkSync(`/proc/self/fd/${fh.fd}`);
    return p.endsWith(" (deleted)") ? undefined : p;
  } catch {
    return undefined;
  }
}

/**
 * Opens a disk file under `policy`: the checks of {@link checkDiskPath}, then open(2) with
 * O_NOFOLLOW (a symlink swapped in as the last component fails with ELOOP), then the descriptor's
 * own path and type are checked again (a directory swapped on the way is caught). `create` makes a
 * missing file (O_CREAT|O_EXCL).
 */
export async function openConfined(
  target: string,
  policy: DiskPolicy,
  mode: { readonly: boolean; create: boolean },
): Promise<{ fh: FileHandle; path: string }> {
  const p = resolveDiskPath(target, policy);
  const { real, exists } = await realTarget(p);
  await checkReal(real, policy, target);
  const access = mode.readonly ? fsConstants.O_RDONLY : fsConstants.O_RDWR;
  const flags =
    access | fsConstants.O_NOFOLLOW | (!exists && mode.create ? fsConstants.O_CREAT | fsConstants.O_EXCL : 0);
  let fh: FileHandle;
  try {
    fh = await open(real, flags, 0o600);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ELOOP")
      throw new DiskPolicyError(`disk path '${target}' became a symlink while it was opened`);
    throw e;
  }
  try {
    checkType(await fh.stat(), policy, target);
    const opened = fdPath(fh);
    if (opened !== undefined) await checkReal(opened, policy, target);
    return { fh, path: real };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Size in bytes of a block device from sysfs (Node has no BLKGETSIZE64), or undefined. */
export async function blockDeviceBytes(stats: Stats): Promise<number | undefined> {
  const major = Math.floor(stats.rdev / 256) & 0xfff;
  const minor = (stats.rdev & 0xff) | ((Math.floor(stats.rdev / 4096) & 0xfff00) >>> 0);
  try {
    const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, "utf8")).trim());
    return Number.isSafeInteger(sectors) ? sectors * 512 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * {@link checkDiskPath} for synchronous callers (the toolstack's config check): lexical, then — when
 * the path's directory exists on this host — the realpath and type rules. Returns the resolved path.
 */
export function checkDiskPathSync(target: string, policy: DiskPolicy): string {
  const p = resolveDiskPath(target, policy);
  let dirReal: string;
  try {
    dirReal = realpathSync(dirname(p));
  } catch {
    return p; // not on this host (blkback's host checks again when it opens)
  }
  let real = join(dirReal, basename(p));
  let st: Stats | undefined;
  try {
    real = realpathSync(p);
    st = statSync(real);
  } catch {
    st = undefined;
  }
  const realOf = (a: string) => {
    try {
      return realpathSync(a);
    } catch {
      return normalize(a);
    }
  };
  if (!policy.allowList.some((a) => realOf(a) === real)) {
    if (policy.imageDir === "" || !inside(realOf(policy.imageDir), real))
      throw new DiskPolicyError(
        policy.imageDir === ""
          ? `disk path '${target}' resolves to ${real}, which is not on the host's allow-list`
          : `disk path '${target}' resolves to ${real}, outside the image directory ${realOf(policy.imageDir)} (a symlink leads out)`,
      );
  }
  if (st) checkType(st, policy, target);
  return p;
}
