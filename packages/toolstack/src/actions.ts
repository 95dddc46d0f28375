// The on_* actions when a domain shuts down (destroy, restart, preserve, soft reset as fact sheet §9).
import type { XlAction } from "@xensim/xlcfg";
import { dmDestroy, dmSaveState, emulatorsOf, readPhysmap, writePhysmap } from "./device-model.js";
import { type FlowOptions, type FlowStep, type FlowStepRecord, runFlow } from "./flow.js";
import { ToolstackError } from "./ports.js";
import { ESRCH, reasonName, dmDeps, flowDeps, noteAction, removeSkeleton } from "./common.js";
import { buildSteps, createDomain } from "./create.js";
import { vbdsOf, removeDevice } from "./devices.js";
import { destroyDomain } from "./destroy.js";
import type { ManagedDomain, ActionRecord, ToolstackContext } from "./context.js";

/**
 * A domain changed (VIRQ_DOM_EXC / @releaseDomain / the bus event): if one of ours shut down, apply
 * its on_* action; if it vanished, clean up after it. Idempotent; concurrent calls for one domain
 * do nothing while it is being handled.
 */
export async function handleDomainEvent(
  ts: ToolstackContext,
  domid: number,
): Promise<ActionRecord | undefined> {
  const rec = ts.managed.get(domid);
  if (!rec || rec.busy || rec.preserved) return undefined;
  const i = await ts.options.hv.domainInfo(domid);
  if (i.rc === ESRCH && rec.config.onCrash === "restart") {
    // Gone without a shutdown, never seen dying: lost with the hypervisor (its host restarted and
    // took guest memory along). A crash for the guest: cleaned up and created again (on_crash).
    rec.busy = true;
    ts.managed.delete(domid);
    ts.lost.push({ domid, uuid: rec.uuid, config: rec.config });
    await recoverLost(ts);
    return undefined;
  }
  if (i.rc !== 0 || !i.info || i.info.state === "dying" || i.info.state === "dead") {
    rec.busy = true;
    const r: ActionRecord = {
      domid,
      reason: "vanished",
      action: "destroy",
      outcome: "ok",
      atMs: ts.options.clock.now(),
    };
    await destroyDomain(ts, domid, { flow: "cleanup" }).catch((e: unknown) => {
      r.outcome = "failed";
      r.error = String(e);
    });
    return noteAction(ts, r);
  }
  if (i.info.state !== "shutdown") return undefined;
  const reason = i.info.shutdownReason;
  const c = rec.config;
  const action: XlAction | "none" =
    reason === 0
      ? c.onPoweroff
      : reason === 1
        ? c.onReboot
        : reason === 3
          ? c.onCrash
          : reason === 4
            ? c.onWatchdog
            : reason === 5
              ? c.onSoftReset
              : "none";
  const r: ActionRecord = {
    domid,
    reason: reasonName(reason),
    action,
    outcome: "ok",
    atMs: ts.options.clock.now(),
  };
  ts.options.log.info(
    { flow: "on-shutdown", step: "action", domid, reason: r.reason, action },
    `domain ${domid} shut down`,
  );
  rec.busy = true;
  try {
    switch (action) {
      case "none": // suspend: left to whoever asked for it
        rec.busy = false;
        return noteAction(ts, r);
      case "preserve":
        rec.preserved = true;
        rec.busy = false;
        break;
      case "destroy":
        await destroyDomain(ts, domid);
        break;
      case "restart": {
        await destroyDomain(ts, domid, { flow: "restart" });
        const n = await createDomain(ts, rec.config, { uuid: rec.uuid });
        r.newDomid = n.domid;
        break;
      }
      case "soft-reset":
        await softReset(ts, rec);
        rec.busy = false;
        break;
    }
  } catch (e) {
    r.outcome = "failed";
    r.error = e instanceof Error ? e.message : String(e);
    if (action === "soft-reset") await destroyDomain(ts, domid).catch(() => {});
    rec.busy = false;
  }
  return noteAction(ts, r);
}

/**
 * libxl_domain_soft_reset (fact sheet §9): release from xenstored, force-remove the devices and the
 * xenstore nodes, pause, XEN_DOMCTL_soft_reset, then build again on the same domid and memory: a
 * new store event channel, the skeleton, introduce with the old store gfn, devices anew, unpause.
 */
export async function softReset(
  ts: ToolstackContext,
  rec: ManagedDomain,
  options: FlowOptions = {},
): Promise<FlowStepRecord[]> {
  const domid = rec.domid;
  const xs = ts.options.xs;
  const st = { domid, port: -1 };
  const dmd = dmDeps(ts);
  const roles = emulatorsOf(rec.config, ts.options.deviceModel);
  const physmap: Awaited<ReturnType<typeof readPhysmap>> = [];
  const steps: FlowStep[] = [];
  if (dmd && roles.length > 0)
    steps.push(
      // libxl: the physmap records kept aside, the device model suspended into qemu-save.<domid>.
      { name: "dm-physmap-save", run: async () => void physmap.push(...(await readPhysmap(xs, domid))) },
      { name: "dm-save-state", run: () => dmSaveState(dmd, domid, roles) },
    );
  steps.push({
    name: "release",
    run: async () => {
      await xs.releaseDomain(domid);
    },
  });
  if (dmd && roles.length > 0) steps.push({ name: "dm-stop", run: () => dmDestroy(dmd, domid, roles) });
  steps.push(
    {
      name: "devices-remove",
      run: async () => {
        for (const dev of await vbdsOf(ts, domid)) await removeDevice(ts, domid, dev, 0, true);
      },
    },
    { name: "xenstore-remove", run: () => removeSkeleton(ts, domid, rec.uuid) },
    {
      name: "pause",
      run: async () => {
        const rc = await ts.options.hv.domainPause(domid);
        if (rc !== 0) throw new ToolstackError("EIO", `pause: rc ${rc}`);
      },
    },
    {
      name: "soft-reset",
      run: async () => {
        const rc = await ts.options.hv.domainSoftReset(domid);
        if (rc !== 0) throw new ToolstackError("EIO", `soft reset: rc ${rc}`);
      },
    },
  );
  if (dmd && roles.length > 0)
    steps.push({ name: "dm-physmap-restore", run: () => writePhysmap(xs, domid, physmap) });
  steps.push(
    ...buildSteps(ts, rec.config, rec.uuid, st, { restoreDeviceModel: roles.length > 0 }).filter(
      (s) => s.name !== "guest-boot",
    ),
  );
  // after a soft reset the domain was paused twice (shutdown + ours): unpause both
  return runFlow("soft-reset", steps, flowDeps(ts), options, domid);
}

/**
 * After `recover`: the domains that were lost with the hypervisor (its host restarted) are
 * cleaned up (devices, home, /vm, /libxl) and get their on_crash action: "restart" creates them
 * again from the saved config, anything else leaves them gone. Run once the services the create
 * flow calls are reachable; a create that fails (a backend still coming back) is tried again
 * `attempts` times, `retryMs` apart. Returns the new domids.
 */
export async function recoverLost(
  ts: ToolstackContext,
  options: { attempts?: number; retryMs?: number } = {},
): Promise<number[]> {
  const out: number[] = [];
  for (const g of ts.lost.splice(0)) {
    // Anything but a restart: `cleanStale` already cleaned it away (and its domid may be in use
    // by a new domain by now: never destroy by that number again).
    if (g.config.onCrash !== "restart") continue;
    const r: ActionRecord = {
      domid: g.domid,
      reason: "crash",
      action: g.config.onCrash,
      outcome: "ok",
      atMs: ts.options.clock.now(),
    };
    ts.options.log.warn(
      { flow: "recover", step: "lost-domain", domid: g.domid, action: g.config.onCrash },
      `domain ${g.domid} (${g.config.name}) was lost with the hypervisor: on_crash ${g.config.onCrash}`,
    );
    // Cleaned already unless the toolstack itself saw it vanish; a domid in use again is not ours.
    const still = await ts.options.hv.domainInfo(g.domid);
    const home = await ts.options.xs.tryRead(`/local/domain/${g.domid}/vm`).catch(() => undefined);
    if (still.rc === ESRCH && home !== undefined)
      await destroyDomain(ts, g.domid, { flow: "lost-cleanup" }).catch(() => {});
    if (g.config.onCrash === "restart") {
      const attempts = options.attempts ?? 5;
      for (let i = 1; ; i++) {
        try {
          const n = await createDomain(ts, g.config, { uuid: g.uuid });
          r.newDomid = n.domid;
          r.outcome = "ok";
          delete r.error;
          out.push(n.domid);
          break;
        } catch (e) {
          r.outcome = "failed";
          r.error = String(e);
          if (i >= attempts) break;
          await new Promise((res) => setTimeout(res, options.retryMs ?? 3000));
        }
      }
    }
    noteAction(ts, r);
  }
  return out;
}
