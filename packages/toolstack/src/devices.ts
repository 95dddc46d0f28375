// Block devices (libxl_device_disk_add / libxl__initiate_device_generic_remove): the vbd
// directories, waiting for the backend, the closing handshake on removal, attach/detach, block-list.
import { XenbusState, xenbusStateName } from "@xensim/abi";
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import type { XlDisk } from "@xensim/xlcfg";
import { type FlowOptions, type FlowStep, type FlowStepRecord, runFlow } from "./flow.js";
import { type GuestDiskStatus, ToolstackError } from "./ports.js";
import { rmIfPresent, rmIfEmpty, flowDeps, waitFor, readState, saveConfig } from "./common.js";
import type { DiskSummary, ToolstackContext } from "./context.js";

export function vbdDirs(ts: ToolstackContext, domid: number, d: XlDisk) {
  return vbdDirectories({
    frontend: domid,
    backend: d.backend,
    vdev: d.vdev,
    devid: d.devid,
    params: d.target,
    mode: d.access,
    type: d.backendtype,
    deviceType: d.devtype,
    discardEnable: d.discard,
  });
}

export async function addVbdDirs(ts: ToolstackContext, domid: number, d: XlDisk): Promise<void> {
  const dirs = vbdDirs(ts, domid, d);
  await ts.options.xs.transaction(async (tx) => {
    if ((await tx.tryRead(`${dirs.frontendPath}/backend`)) !== undefined)
      throw new ToolstackError("EEXIST", `vdev ${d.vdev} (devid ${d.devid}) is in use on domain ${domid}`);
    // a stale error node of an earlier device with this domid/devid would read as our failure
    await rmIfPresent(tx, `/local/domain/${d.backend}/error/backend/vbd/${domid}/${d.devid}`);
    await applyVbdDirectories(tx, dirs);
  });
}

/** libxl__device_destroy: the frontend, backend and error directories (and emptied parents). */
export async function removeVbdDirs(
  ts: ToolstackContext,
  domid: number,
  d: { devid: number; backend: number },
): Promise<void> {
  const xs = ts.options.xs;
  const errDir = `/local/domain/${d.backend}/error/backend/vbd/${domid}`;
  await rmIfPresent(xs, `/local/domain/${domid}/device/vbd/${d.devid}`);
  await rmIfPresent(xs, `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`);
  await rmIfPresent(xs, `${errDir}/${d.devid}`);
  await rmIfEmpty(xs, errDir);
  await rmIfEmpty(xs, `/local/domain/${d.backend}/backend/vbd/${domid}`);
  await rmIfEmpty(xs, `/local/domain/${domid}/device/vbd`);
}

/** The backend attached: InitWait or beyond; a backend that failed (error node, Closing) fails at once. */
export async function waitBackend(
  ts: ToolstackContext,
  domid: number,
  d: { devid: number; backend: number; vdev: string },
  ms: number,
) {
  const be = `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`;
  const errPath = `/local/domain/${d.backend}/error/backend/vbd/${domid}/${d.devid}/error`;
  // libxl: the backend reaches InitWait, and the hotplug step (here blkback opening the store)
  // reports hotplug-status "connected" — or "error", which fails the step.
  await waitFor(
    ts,
    `backend of ${d.vdev} reaching InitWait`,
    ms,
    async () => {
      const s = await readState(ts, be);
      const err = await ts.options.xs.tryRead(errPath);
      const hotplug = await ts.options.xs.tryRead(`${be}/hotplug-status`);
      if (err !== undefined || hotplug === "error" || s === XenbusState.Closing || s === XenbusState.Closed)
        throw new ToolstackError(
          "EIO",
          `backend of ${d.vdev} failed (state ${xenbusStateName(s ?? 0) ?? s}): ${err ?? "no error node"}`,
        );
      return (
        s !== undefined && s >= XenbusState.InitWait && s <= XenbusState.Connected && hotplug === "connected"
      );
    },
    [be, errPath],
  );
}

export async function vbdsOf(
  ts: ToolstackContext,
  domid: number,
): Promise<Array<{ devid: number; backend: number; vdev: string }>> {
  const xs = ts.options.xs;
  const out: Array<{ devid: number; backend: number; vdev: string }> = [];
  const fronts = await xs.ls(`/local/domain/${domid}/device/vbd`).catch(() => [] as string[]);
  for (const f of fronts) {
    const backend = Number((await xs.tryRead(`/local/domain/${domid}/device/vbd/${f}/backend-id`)) ?? "0");
    const bePath = `/local/domain/${backend}/backend/vbd/${domid}/${f}`;
    out.push({ devid: Number(f), backend, vdev: (await xs.tryRead(`${bePath}/dev`)) ?? f });
  }
  // backends whose frontend directory is already gone
  const seen = new Set(out.map((d) => `${d.backend}/${d.devid}`));
  const be0 = await xs.ls(`/local/domain/0/backend/vbd/${domid}`).catch(() => [] as string[]);
  for (const b of be0)
    if (!seen.has(`0/${b}`))
      out.push({
        devid: Number(b),
        backend: 0,
        vdev: (await xs.tryRead(`/local/domain/0/backend/vbd/${domid}/${b}/dev`)) ?? b,
      });
  return out;
}

/**
 * libxl__initiate_device_generic_remove: backend online=0 and state=Closing, wait for the backend
 * to reach Closed; on timeout remove anyway when `force`, else fail. Then the directories go.
 * Returns whether the handshake completed.
 */
export async function removeDevice(
  ts: ToolstackContext,
  domid: number,
  d: { devid: number; backend: number; vdev: string },
  timeoutMs: number,
  force: boolean,
): Promise<{ handshake: boolean; frontendState: number | undefined }> {
  const xs = ts.options.xs;
  const be = `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`;
  const fe = `/local/domain/${domid}/device/vbd/${d.devid}`;
  await xs.transaction(async (tx) => {
    if ((await tx.tryRead(`${be}/online`)) === undefined) return;
    await tx.write(`${be}/online`, "0");
    const s = await tx.tryRead(`${be}/state`);
    if (s !== String(XenbusState.Closed)) await tx.write(`${be}/state`, String(XenbusState.Closing));
  });
  let handshake = true;
  try {
    await waitFor(
      ts,
      `backend of ${d.vdev} closing`,
      timeoutMs,
      async () => {
        const s = await readState(ts, be);
        return s === undefined || s === XenbusState.Closed;
      },
      [be],
    );
  } catch (e) {
    if (!force) throw e;
    handshake = false;
    ts.options.log.warn(
      { domid, devid: d.devid, vdev: d.vdev },
      "closing handshake timed out: forced removal",
    );
  }
  const frontendState = await readState(ts, fe);
  await removeVbdDirs(ts, domid, d);
  return { handshake, frontendState };
}

/**
 * xl block-attach: the vbd directories, the backend reaching InitWait, and (when a guest runtime
 * runs the domain) the frontend reaching Connected. Rolled back on failure.
 */
export async function attachDisk(
  ts: ToolstackContext,
  domid: number,
  disk: XlDisk,
  options: FlowOptions = {},
): Promise<FlowStepRecord[]> {
  const i = await ts.options.hv.domainInfo(domid);
  if (i.rc !== 0 || !i.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  if (domid === 0) throw new ToolstackError("EINVAL", "no disks for domain 0");
  const rec = ts.managed.get(domid);
  const steps: FlowStep[] = [
    {
      name: `vbd-add:${disk.vdev}`,
      run: async (ctx) => {
        await addVbdDirs(ts, domid, disk);
        ctx.onUndo(() => removeDevice(ts, domid, disk, ts.options.destroyDeviceTimeoutMs, true));
      },
    },
    { name: "wait-backend", run: () => waitBackend(ts, domid, disk, ts.options.backendTimeoutMs) },
  ];
  if (rec?.booted === true)
    steps.push({
      name: "wait-frontend",
      run: () =>
        waitFor(
          ts,
          `frontend of ${disk.vdev} Connected`,
          ts.options.frontendTimeoutMs,
          async () =>
            (await readState(ts, `/local/domain/${domid}/device/vbd/${disk.devid}`)) ===
            XenbusState.Connected,
          [`/local/domain/${domid}/device/vbd/${disk.devid}`],
        ),
    });
  const records = await runFlow("block-attach", steps, flowDeps(ts), options, domid);
  if (rec) {
    rec.config = { ...rec.config, disks: [...rec.config.disks.filter((d) => d.vdev !== disk.vdev), disk] };
    await saveConfig(ts, ts.options.xs, domid, rec.config).catch(() => {});
  }
  return records;
}

/**
 * xl block-detach: backend online=0 / Closing, wait for the closing handshake (backend Closed),
 * remove the directories; on timeout fail unless `force` (then remove anyway).
 */
export async function detachDisk(
  ts: ToolstackContext,
  domid: number,
  vdev: string,
  options: { force?: boolean; timeoutMs?: number } = {},
): Promise<{ handshake: boolean; frontendState: string; records: FlowStepRecord[] }> {
  const dev = (await vbdsOf(ts, domid)).find((d) => d.vdev === vdev || String(d.devid) === vdev);
  if (!dev) throw new ToolstackError("ENOENT", `domain ${domid} has no disk ${vdev}`);
  let result = { handshake: false, frontendState: undefined as number | undefined };
  const records = await runFlow(
    "block-detach",
    [
      {
        name: `vbd-remove:${dev.vdev}`,
        run: async () => {
          result = await removeDevice(
            ts,
            domid,
            dev,
            options.timeoutMs ?? ts.options.detachTimeoutMs,
            options.force ?? true,
          );
        },
      },
    ],
    flowDeps(ts),
    {},
    domid,
  );
  const rec = ts.managed.get(domid);
  if (rec) {
    rec.config = { ...rec.config, disks: rec.config.disks.filter((d) => d.devid !== dev.devid) };
    await saveConfig(ts, ts.options.xs, domid, rec.config).catch(() => {});
  }
  return {
    handshake: result.handshake,
    frontendState: xenbusStateName(result.frontendState ?? 0) ?? String(result.frontendState),
    records,
  };
}

/** xl block-list, with what the guest runtime reports (NBD export) when there is one. */
export async function listDisks(ts: ToolstackContext, domid: number): Promise<DiskSummary[]> {
  const xs = ts.options.xs;
  const i = await ts.options.hv.domainInfo(domid);
  if ((i.rc !== 0 || !i.info) && (await xs.tryRead(`/local/domain/${domid}/domid`)) === undefined)
    throw new ToolstackError("ENOENT", `no domain ${domid}`);
  let guestDisks: GuestDiskStatus[] = [];
  if (ts.options.guest)
    guestDisks =
      (await ts.options.guest.list().catch(() => [])).find((g) => g.domid === domid)?.disks ??
      ([] as GuestDiskStatus[]);
  const out: DiskSummary[] = [];
  for (const dev of await vbdsOf(ts, domid)) {
    const fe = `/local/domain/${domid}/device/vbd/${dev.devid}`;
    const be = `/local/domain/${dev.backend}/backend/vbd/${domid}/${dev.devid}`;
    const fs = await readState(ts, fe);
    const bs = await readState(ts, be);
    const order = await xs.tryRead(`${fe}/ring-page-order`);
    const nq = await xs.tryRead(`${fe}/multi-queue-num-queues`);
    const features: Record<string, string> = {};
    for (const k of await xs.ls(be).catch(() => [] as string[]))
      if (
        k.startsWith("feature-") ||
        k === "max-ring-page-order" ||
        k === "multi-queue-max-queues" ||
        k === "sector-size"
      )
        features[k] = (await xs.tryRead(`${be}/${k}`)) ?? "";
    const sectors = await xs.tryRead(`${be}/sectors`);
    const g = guestDisks.find((x) => x.devid === dev.devid);
    out.push({
      vdev: dev.vdev,
      devid: dev.devid,
      backendDomid: dev.backend,
      backendState:
        fs === undefined && bs === undefined ? "Unknown" : (xenbusStateName(bs ?? 0) ?? String(bs)),
      frontendState: xenbusStateName(fs ?? 0) ?? String(fs),
      params: (await xs.tryRead(`${be}/params`)) ?? "",
      mode: (await xs.tryRead(`${be}/mode`)) ?? "",
      ringPages: order !== undefined ? 1 << Number(order) : (await xs.tryRead(`${fe}/ring-ref`)) ? 1 : 0,
      queues: nq !== undefined ? Number(nq) : 1,
      features,
      sectors: sectors === undefined ? undefined : Number(sectors),
      nbdUri: g?.nbdUri !== undefined && g.nbdUri !== "" ? g.nbdUri : undefined,
    });
  }
  return out;
}
