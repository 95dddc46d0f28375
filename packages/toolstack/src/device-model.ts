// libxl's device-model handling for HVM domains (libxl_dm.c, libxl_domain.c): spawn the emulators
// and wait for "running", tear them down on destroy, and around a soft reset save their state to
// XEN_LIB_DIR/qemu-save.<domid> (QMP xen-save-devices-state), keep the physmap records, and restart
// them on the reset domain from the saved state (qemu -incoming). The emulators live in a device-model
// runtime (services/device-model), reached through the injected `DeviceModelRuntime`.

import { XenErrno } from "@xensim/abi";
import { DM_XS, qemuSavePath, type VgaTextScreen } from "@xensim/devicemodel";
import type { XenbusStore } from "@xensim/xenbus";
import { deviceModelRoles, type DomainConfig } from "@xensim/xlcfg";
import type { FlowStep } from "./flow.js";
import { ToolstackError } from "./ports.js";

export type EmulatorRole = "primary" | "secondary";

/** A device-model runtime (proto xensim.devicemodel.v1 DeviceModel, one client per role). */
export interface DeviceModelRuntime {
  /** Start the `role` emulator of `domid`; with `restorePath`, from a saved state (qemu -incoming). */
  start(o: {
    domid: number;
    name: string;
    role: EmulatorRole;
    vcpus: number;
    restorePath?: string;
  }): Promise<{ rc: number; error: string }>;
  stop(domid: number, role: EmulatorRole): Promise<{ rc: number; error: string }>;
  /** QMP xen-save-devices-state into `path`. */
  saveState(domid: number, role: EmulatorRole, path: string): Promise<{ rc: number; error: string }>;
  /** `xl console -n serial`: bytes from `offset` (waiting up to waitMs for some). */
  consoleRead(
    domid: number,
    serial: number,
    offset: number,
    waitMs: number,
  ): Promise<{ rc: number; data: Uint8Array; next: number }>;
  consoleWrite(domid: number, serial: number, data: Uint8Array): Promise<{ rc: number }>;
  /** The VGA text screen of the guest's primary emulator (rc -ESRCH: none). */
  vgaText?(domid: number): Promise<{ rc: number; screen?: VgaTextScreen }>;
}

export interface DeviceModelFlowDeps {
  dm: DeviceModelRuntime;
  xs: XenbusStore;
  /** libxl's XEN_LIB_DIR: where qemu-save.<domid> goes. */
  libDir: string;
  waitFor(what: string, ms: number, cond: () => Promise<boolean>, paths?: readonly string[]): Promise<void>;
  timeoutMs: number;
}

/** The emulators this domain gets (none without a runtime). */
export function emulatorsOf(config: DomainConfig, dm: DeviceModelRuntime | undefined): EmulatorRole[] {
  return dm ? deviceModelRoles(config) : [];
}

/**
 * libxl__spawn_local_dm + the wait for "running": one step per emulator, undone by stopping it.
 * `restore`: the soft reset's re-creation (each emulator from its qemu-save file).
 */
export function dmStartSteps(
  d: DeviceModelFlowDeps,
  config: DomainConfig,
  st: { domid: number },
  o: { restore?: boolean } = {},
): FlowStep[] {
  const roles = emulatorsOf(config, d.dm);
  return roles.map((role) => ({
    name: `dm-start:${role}`,
    run: async (ctx) => {
      ctx.onUndo(async () => {
        await d.dm.stop(st.domid, role);
      });
      const r = await d.dm.start({
        domid: st.domid,
        name: config.name,
        role,
        vcpus: config.vcpus,
        ...(o.restore ? { restorePath: qemuSavePath(d.libDir, st.domid, role) } : {}),
      });
      if (r.rc !== 0) throw new ToolstackError("EIO", `device model ${role}: rc ${r.rc} ${r.error}`);
      if (role === "primary")
        await d.waitFor(
          `device model of ${st.domid} running`,
          d.timeoutMs,
          async () => (await d.xs.tryRead(DM_XS.state(st.domid))) === "running",
          [DM_XS.state(st.domid)],
        );
    },
  }));
}

/** libxl__destroy_device_model: stop every emulator of the domain and remove its device-model node. */
export async function dmDestroy(
  d: DeviceModelFlowDeps,
  domid: number,
  roles: readonly EmulatorRole[],
  o: { keepNode?: boolean } = {},
): Promise<void> {
  const errors: string[] = [];
  for (const role of roles) {
    const r = await d.dm.stop(domid, role);
    if (r.rc !== 0 && r.rc !== -XenErrno.ESRCH /* not running */)
      errors.push(`${role}: rc ${r.rc} ${r.error}`);
  }
  if (!o.keepNode) await rmQuiet(d.xs, DM_XS.root(domid));
  if (errors.length) throw new ToolstackError("EIO", `device model stop: ${errors.join("; ")}`);
}

async function rmQuiet(xs: XenbusStore, path: string): Promise<void> {
  try {
    await xs.rm(path);
  } catch {
    /* absent */
  }
}

export interface PhysmapRecord {
  id: string;
  startAddr: string;
  size: string;
  name: string;
}

/** libxl's soft reset, step 3: the device model's physmap records, kept aside. */
export async function readPhysmap(xs: XenbusStore, domid: number): Promise<PhysmapRecord[]> {
  const base = DM_XS.physmap(domid);
  const out: PhysmapRecord[] = [];
  for (const id of await xs.ls(base).catch(() => [] as string[]))
    out.push({
      id,
      startAddr: (await xs.tryRead(`${base}/${id}/start_addr`)) ?? "",
      size: (await xs.tryRead(`${base}/${id}/size`)) ?? "",
      name: (await xs.tryRead(`${base}/${id}/name`)) ?? "",
    });
  return out;
}

/** Step 8: the physmap records written back before the device model restarts. */
export async function writePhysmap(
  xs: XenbusStore,
  domid: number,
  records: readonly PhysmapRecord[],
): Promise<void> {
  const base = DM_XS.physmap(domid);
  for (const r of records) {
    await xs.write(`${base}/${r.id}/start_addr`, r.startAddr);
    await xs.write(`${base}/${r.id}/size`, r.size);
    await xs.write(`${base}/${r.id}/name`, r.name);
  }
}

/** Step 4: every emulator's state into its qemu-save file (the device model is stopped after). */
export async function dmSaveState(
  d: DeviceModelFlowDeps,
  domid: number,
  roles: readonly EmulatorRole[],
): Promise<void> {
  for (const role of roles) {
    const r = await d.dm.saveState(domid, role, qemuSavePath(d.libDir, domid, role));
    if (r.rc !== 0)
      throw new ToolstackError("EIO", `xen-save-devices-state (${role}): rc ${r.rc} ${r.error}`);
  }
}
