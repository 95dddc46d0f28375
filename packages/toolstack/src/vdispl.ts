// libxl_vdispl: the xenstore nodes of a virtual display (xl.cfg `vdispl`). Frontend
// /local/domain/<F>/device/vdispl/<devid>/ gets backend, backend-id, state 1, be-alloc and per
// connector `<i>/resolution` ("WxH") and `<i>/unique-id`; backend
// /local/domain/<B>/backend/vdispl/<F>/<devid>/ gets frontend, frontend-id, online 1, state 1.
// Permissions as libxl: each directory owned by its domain and readable by the other end.
import { XenbusState } from "@xensim/abi";
import type { XenbusStoreOps } from "@xensim/xenbus";
import type { XlVdispl } from "@xensim/xlcfg";

export interface VdisplDirectories {
  readonly devid: number;
  readonly backendPath: string;
  readonly frontendPath: string;
}

export function vdisplPaths(frontend: number, backend: number, devid: number): VdisplDirectories {
  return {
    devid,
    backendPath: `/local/domain/${backend}/backend/vdispl/${frontend}/${devid}`,
    frontendPath: `/local/domain/${frontend}/device/vdispl/${devid}`,
  };
}

/** The backend domain of a spec: an id, or "Domain-0" / "0". Anything else: undefined. */
export function vdisplBackendDomid(v: XlVdispl): number | undefined {
  if (v.backend === "Domain-0") return 0;
  return /^[0-9]{1,5}$/.test(v.backend) ? Number(v.backend) : undefined;
}

/** Writes both directories (inside a transaction when `ops` is one). */
export async function writeVdisplDirectories(
  ops: XenbusStoreOps,
  frontend: number,
  backend: number,
  devid: number,
  v: XlVdispl,
): Promise<VdisplDirectories> {
  const d = vdisplPaths(frontend, backend, devid);
  await ops.mkdir(d.backendPath);
  await ops.setPerms(d.backendPath, [`n${backend}`, `r${frontend}`]);
  await ops.mkdir(d.frontendPath);
  await ops.setPerms(d.frontendPath, [`n${frontend}`, `r${backend}`]);
  const w = (p: string, value: string | number) => ops.write(p, String(value));
  await w(`${d.backendPath}/frontend`, d.frontendPath);
  await w(`${d.backendPath}/frontend-id`, frontend);
  await w(`${d.backendPath}/online`, 1);
  await w(`${d.backendPath}/state`, XenbusState.Initialising);
  await w(`${d.frontendPath}/backend`, d.backendPath);
  await w(`${d.frontendPath}/backend-id`, backend);
  await w(`${d.frontendPath}/state`, XenbusState.Initialising);
  await w(`${d.frontendPath}/be-alloc`, v.beAlloc ? 1 : 0);
  for (let i = 0; i < v.connectors.length; i++) {
    const c = v.connectors[i]!;
    await w(`${d.frontendPath}/${i}/resolution`, `${c.width}x${c.height}`);
    await w(`${d.frontendPath}/${i}/unique-id`, c.id);
  }
  return d;
}

async function rmQuiet(ops: XenbusStoreOps, path: string): Promise<void> {
  try {
    await ops.rm(path);
  } catch {
    // already gone
  }
}

/** libxl__device_destroy for a vdispl: both directories and the backend's error node. */
export async function removeVdisplDirectories(
  ops: XenbusStoreOps,
  d: VdisplDirectories,
  frontend: number,
  backend: number,
): Promise<void> {
  await rmQuiet(ops, d.frontendPath);
  await rmQuiet(ops, d.backendPath);
  await rmQuiet(ops, `/local/domain/${backend}/error/backend/vdispl/${frontend}/${d.devid}`);
}

/** The vdispl devices of a domain as its frontend directory lists them. */
export async function vdisplsOf(
  ops: XenbusStoreOps,
  frontend: number,
): Promise<{ devid: number; backend: number }[]> {
  let names: string[];
  try {
    names = await ops.ls(`/local/domain/${frontend}/device/vdispl`);
  } catch {
    names = [];
  }
  const out: { devid: number; backend: number }[] = [];
  for (const n of names) {
    const b = await ops.tryRead(`/local/domain/${frontend}/device/vdispl/${n}/backend-id`);
    out.push({ devid: Number(n), backend: Number(b ?? "0") });
  }
  return out;
}
