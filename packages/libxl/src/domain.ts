// The xenstore skeleton libxl writes for a new domain (libxl__domain_make + libxl__build_post): the
// home /local/domain/<domid> (dom0's, the guest reads), /vm/<uuid>, /libxl/<domid>, the store/ and
// memory/ nodes, and the nodes the guest may write in its own home (control/shutdown and the
// feature flags it advertises, data/, drivers/, …). Pure: returns the operations; the toolstack's
// create flow and the domain builder of tests and benchmarks (@xensim/guest buildGuest) both
// write exactly these, so every guest boots with what `xl create` gives it.
import type { LibxlStoreOp } from "./store.js";

/** The gfn of the store page (HVM_PARAM_STORE_PFN; below the guest kernel's first free gfn). */
export const STORE_GFN = 0xfe;

/** What the guest may write in its home (libxl's rwperm nodes). */
export const GUEST_WRITABLE_NODES = Object.freeze([
  "control/shutdown",
  "control/feature-poweroff",
  "control/feature-reboot",
  "control/feature-suspend",
  "control/sysrq",
  "data",
  "drivers",
  "feature",
  "attr",
  "error",
]);

export interface DomainSkeletonSpec {
  domid: number;
  uuid: string;
  name: string;
  type: "hvm" | "pv";
  memoryMib: number;
  /** maxmem (default memoryMib). */
  maxmemMib?: number;
  /** The guest's end of the store event channel. */
  storePort: number;
  /** /vm/<uuid>/start_time: wall-clock seconds (injected). */
  startTimeSeconds: number;
  /** Keys under /vm/<uuid>/xensim/ (dom0's, the guest reads): workload, blkfront, firmware. */
  xensim?: Readonly<Record<string, string>>;
}

export interface DomainSkeleton {
  home: string;
  vmPath: string;
  /** /libxl/<domid>: libxl's own record of the domain (dom0 only). */
  libxlPath: string;
  ops: readonly LibxlStoreOp[];
}

export function domainSkeleton(spec: DomainSkeletonSpec): DomainSkeleton {
  const { domid, uuid } = spec;
  const home = `/local/domain/${domid}`;
  const vmPath = `/vm/${uuid}`;
  const libxlPath = `/libxl/${domid}`;
  const ro = ["n0", `r${domid}`]; // dom0 owns, the guest reads
  const rw = [`n${domid}`]; // the guest owns (dom0 is privileged anyway)
  const mkdir = (path: string, perms?: readonly string[]): LibxlStoreOp => ({ kind: "mkdir", path, perms });
  const write = (path: string, value: string | number): LibxlStoreOp => ({
    kind: "write",
    path,
    value: String(value),
  });
  const ops: LibxlStoreOp[] = [
    mkdir(home, ro),
    mkdir(vmPath, ro),
    mkdir(libxlPath, ["n0"]),
    write(`${libxlPath}/type`, spec.type),
    write(`${home}/vm`, vmPath),
    write(`${home}/name`, spec.name),
    write(`${home}/domid`, domid),
    ...["device", "control", "memory", "store"].map((d) => mkdir(`${home}/${d}`)),
    ...GUEST_WRITABLE_NODES.map((k) => mkdir(`${home}/${k}`, rw)),
    write(`${home}/memory/target`, spec.memoryMib * 1024),
    write(`${home}/memory/static-max`, (spec.maxmemMib ?? spec.memoryMib) * 1024),
    write(`${home}/store/port`, spec.storePort),
    write(`${home}/store/ring-ref`, STORE_GFN),
    write(`${vmPath}/uuid`, uuid),
    write(`${vmPath}/name`, spec.name),
    write(`${vmPath}/image/ostype`, spec.type === "hvm" ? "hvm" : "linux"),
    write(`${vmPath}/start_time`, spec.startTimeSeconds.toFixed(2)),
    ...Object.entries(spec.xensim ?? {}).map(([k, v]) => write(`${vmPath}/xensim/${k}`, v)),
  ];
  return { home, vmPath, libxlPath, ops };
}
