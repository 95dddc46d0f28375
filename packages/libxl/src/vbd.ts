// The xenstore directories libxl writes for a vbd (libxl_device_disk_add → libxl__device_generic_add):
// pure — returns the operations; `applyVbdDirectories` runs them in one transaction.
import { applyLibxlOps, type LibxlStoreOp, type LibxlStoreOps } from "./store.js";

export interface LibxlVbdSpec {
  /** The guest's domid. */
  readonly frontend: number;
  /** The backend's domid (default 0). */
  readonly backend?: number;
  /** Device name in the guest ("xvda", "xvdb", …); gives the devid unless `devid` is set. */
  readonly vdev: string;
  readonly devid?: number;
  /** Storage handed to the backend (`params`), e.g. a blkstore spec "memory:size=64M". */
  readonly params: string;
  /** "w" (default) or "r" (a read-only vbd). */
  readonly mode?: "r" | "w";
  /** Backend `type` (libxl: "phy", "file", "qdisk"…; default "phy"). */
  readonly type?: string;
  readonly deviceType?: "disk" | "cdrom";
  readonly removable?: boolean;
  readonly bootable?: boolean;
  /** `discard-enable` (default true). */
  readonly discardEnable?: boolean;
}

export type VbdDirectoryOp = LibxlStoreOp;

export interface VbdDirectories {
  readonly devid: number;
  readonly backendPath: string;
  readonly frontendPath: string;
  readonly ops: readonly VbdDirectoryOp[];
}

/**
 * Linux's xen-blkfront device number of an xvd name: xvda..xvdp = 202 << 8 | disk << 4, beyond
 * that the extended form 1 << 28 | disk << 8 (xl-disk-configuration / libxl__device_disk_dev_number).
 * Also accepts a plain number. Throws RangeError on anything else.
 */
export function vbdDevid(vdev: string): number {
  if (/^\d+$/.test(vdev)) return Number(vdev);
  const m = /^xvd([a-z]+)$/.exec(vdev);
  if (m === null) throw new RangeError(`unsupported virtual device name ${JSON.stringify(vdev)}`);
  let disk = 0;
  for (const ch of m[1]!) disk = disk * 26 + (ch.charCodeAt(0) - 96);
  disk -= 1;
  if (disk < 16) return (202 << 8) | (disk << 4);
  if (disk < 1 << 20) return (1 << 28) + disk * 256;
  throw new RangeError(`virtual device ${vdev} out of range`);
}

/** The directories libxl writes for a vbd, with its permissions: each end owns its side, the other reads. */
export function vbdDirectories(spec: LibxlVbdSpec): VbdDirectories {
  const be = spec.backend ?? 0;
  const fe = spec.frontend;
  const devid = spec.devid ?? vbdDevid(spec.vdev);
  const backendPath = `/local/domain/${be}/backend/vbd/${fe}/${devid}`;
  const frontendPath = `/local/domain/${fe}/device/vbd/${devid}`;
  const w = (path: string, value: string | number): VbdDirectoryOp => ({
    kind: "write",
    path,
    value: String(value),
  });
  const ops: VbdDirectoryOp[] = [
    // libxl: backend directory owned by the backend domain, readable by the frontend;
    // frontend directory owned by the frontend, readable by the backend.
    { kind: "mkdir", path: backendPath, perms: [`n${be}`, `r${fe}`] },
    { kind: "mkdir", path: frontendPath, perms: [`n${fe}`, `r${be}`] },
    w(`${backendPath}/frontend`, frontendPath),
    w(`${backendPath}/frontend-id`, fe),
    w(`${backendPath}/online`, 1),
    w(`${backendPath}/removable`, spec.removable === true ? 1 : 0),
    w(`${backendPath}/bootable`, spec.bootable === false ? 0 : 1),
    w(`${backendPath}/state`, 1),
    w(`${backendPath}/dev`, spec.vdev),
    w(`${backendPath}/type`, spec.type ?? "phy"),
    w(`${backendPath}/mode`, spec.mode ?? "w"),
    w(`${backendPath}/device-type`, spec.deviceType ?? "disk"),
    w(`${backendPath}/discard-enable`, spec.discardEnable === false ? 0 : 1),
    w(`${backendPath}/params`, spec.params),
    w(`${frontendPath}/backend`, backendPath),
    w(`${frontendPath}/backend-id`, be),
    w(`${frontendPath}/state`, 1),
    w(`${frontendPath}/virtual-device`, devid),
    w(`${frontendPath}/device-type`, spec.deviceType ?? "disk"),
  ];
  return { devid, backendPath, frontendPath, ops };
}

/** Runs the operations in order (inside a transaction when `ops` is one). */
export async function applyVbdDirectories(ops: LibxlStoreOps, dirs: VbdDirectories): Promise<void> {
  await applyLibxlOps(ops, dirs.ops);
}
