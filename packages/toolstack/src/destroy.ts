// xl destroy (libxl__destroy_domid): halt, pause, remove every device, release, destroy, clean up.
import { XenErrno } from "@xensim/abi";
import { dmDestroy, type EmulatorRole, emulatorsOf } from "./device-model.js";
import { type FlowStep, type FlowStepRecord, runFlow } from "./flow.js";
import { ToolstackError } from "./ports.js";
import { removeVdispls } from "./vdispl-flow.js";
import { RELEASE_DOMAIN } from "./wait.js";
import { ESRCH, xsCode, rmIfPresent, dmDeps, flowDeps, waitFor } from "./common.js";
import { vbdsOf, removeDevice } from "./devices.js";
import type { ToolstackContext } from "./context.js";

export async function destroyDomainAndWait(ts: ToolstackContext, domid: number): Promise<void> {
  const rc = await ts.options.hv.domainDestroy(domid);
  if (rc !== 0 && rc !== ESRCH) throw new ToolstackError("EIO", `domain destroy: rc ${rc}`);
  await waitGone(ts, domid);
  await removeBackendDirsOf(ts, domid);
}

/** What backends may have left (or re-created) for a frontend domain that is gone. */
export async function removeBackendDirsOf(ts: ToolstackContext, domid: number): Promise<void> {
  for (const be of await ts.options.xs.ls("/local/domain").catch(() => [] as string[])) {
    await rmIfPresent(ts.options.xs, `/local/domain/${be}/backend/vbd/${domid}`);
    await rmIfPresent(ts.options.xs, `/local/domain/${be}/error/backend/vbd/${domid}`);
    await rmIfPresent(ts.options.xs, `/local/domain/${be}/backend/vdispl/${domid}`);
  }
}

export async function waitGone(ts: ToolstackContext, domid: number): Promise<void> {
  await waitFor(
    ts,
    `domain ${domid} going away`,
    ts.options.reapTimeoutMs,
    async () => {
      const i = await ts.options.hv.domainInfo(domid);
      return i.rc !== 0 || i.info === undefined || i.info.state === "dead";
    },
    [RELEASE_DOMAIN],
  );
}

/**
 * xl destroy (libxl__destroy_domid): halt the guest, pause, remove every device (closing
 * handshake, forced after `destroyDeviceTimeoutMs`), release from xenstored, destroy, remove
 * the xenstore nodes, wait until the hypervisor freed it. Best effort: every step runs.
 */
export async function destroyDomain(
  ts: ToolstackContext,
  domid: number,
  options: { flow?: string } = {},
): Promise<FlowStepRecord[]> {
  if (domid === 0) throw new ToolstackError("EINVAL", "domain 0 cannot be destroyed");
  const rec = ts.managed.get(domid);
  const info = await ts.options.hv.domainInfo(domid);
  const home = `/local/domain/${domid}`;
  const homeExists = (await ts.options.xs.tryRead(`${home}/domid`)) !== undefined;
  if ((info.rc !== 0 || info.info === undefined) && rec === undefined && !homeExists)
    throw new ToolstackError("ENOENT", `no domain ${domid}`);
  if (rec) rec.busy = true;
  ts.managed.delete(domid);
  const xs = ts.options.xs;
  let uuid = rec?.uuid;
  const guest = ts.options.guest;
  const steps: FlowStep[] = [];
  if (guest)
    steps.push({
      name: "guest-halt",
      continueOnError: true,
      run: async () => {
        await guest.halt(domid);
      },
    });
  steps.push(
    {
      name: "pause",
      continueOnError: true,
      run: async () => {
        const rc = await ts.options.hv.domainPause(domid);
        if (rc !== 0 && rc !== ESRCH && rc !== -XenErrno.EINVAL)
          throw new ToolstackError("EIO", `pause: rc ${rc}`);
      },
    },
    {
      name: "dm-stop",
      continueOnError: true,
      run: async () => {
        const dmd = dmDeps(ts);
        if (!dmd) return;
        const roles: EmulatorRole[] = rec ? emulatorsOf(rec.config, dmd.dm) : ["primary", "secondary"];
        await dmDestroy(dmd, domid, roles);
      },
    },
    {
      name: "devices-remove",
      continueOnError: true,
      run: async () => {
        uuid ??= (await xs.tryRead(`${home}/vm`))?.replace(/^\/vm\//, "");
        for (const dev of await vbdsOf(ts, domid))
          await removeDevice(ts, domid, dev, ts.options.destroyDeviceTimeoutMs, true);
        await removeVdispls(xs, domid);
      },
    },
    {
      name: "release",
      continueOnError: true,
      run: async () => {
        try {
          await xs.releaseDomain(domid);
        } catch (e) {
          if (!["ENOENT", "EINVAL", "ESRCH"].includes(xsCode(e) ?? "")) throw e;
        }
      },
    },
    {
      name: "domain-destroy",
      continueOnError: true,
      run: async () => {
        const rc = await ts.options.hv.domainDestroy(domid);
        if (rc !== 0 && rc !== ESRCH) throw new ToolstackError("EIO", `domain destroy: rc ${rc}`);
      },
    },
    {
      name: "xenstore-cleanup",
      continueOnError: true,
      run: async () => {
        await rmIfPresent(xs, home);
        if (uuid !== undefined && uuid !== "") await rmIfPresent(xs, `/vm/${uuid}`);
        await rmIfPresent(xs, `/libxl/${domid}`);
        await removeBackendDirsOf(ts, domid);
      },
    },
    {
      name: "wait-gone",
      continueOnError: true,
      run: async () => {
        await waitGone(ts, domid);
        await removeBackendDirsOf(ts, domid);
      },
    },
  );
  return runFlow(options.flow ?? "destroy", steps, flowDeps(ts), {}, domid);
}
