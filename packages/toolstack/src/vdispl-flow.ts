// The vdispl steps of the create and destroy flows (libxl_vdispl's device add / remove).
import { XenbusState, xenbusStateName } from "@xensim/abi";
import type { XenbusStoreOps } from "@xensim/xenbus";
import type { XlVdispl } from "@xensim/xlcfg";
import type { FlowStep } from "./flow.js";
import { ToolstackError } from "./ports.js";
import {
  removeVdisplDirectories,
  vdisplBackendDomid,
  vdisplPaths,
  vdisplsOf,
  writeVdisplDirectories,
} from "./vdispl.js";

type WaitFor = (
  what: string,
  ms: number,
  cond: () => Promise<boolean>,
  paths?: readonly string[],
) => Promise<void>;

/** `vdispl-add:<devid>` per device, then `wait-vdispl-backends` (each backend past InitWait). */
export function vdisplSteps(
  xs: XenbusStoreOps & { transaction<T>(fn: (tx: XenbusStoreOps) => Promise<T>): Promise<T> },
  /** The domain's id once domain-create ran (read when each step runs). */
  domidOf: () => number,
  vdispls: readonly XlVdispl[],
  waitFor: WaitFor,
  timeoutMs: number,
): FlowStep[] {
  const steps: FlowStep[] = [];
  vdispls.forEach((v, devid) => {
    steps.push({
      name: `vdispl-add:${devid}`,
      run: async (ctx) => {
        const domid = domidOf();
        const backend = vdisplBackendDomid(v);
        if (backend === undefined)
          throw new ToolstackError("ENOENT", `vdispl ${devid}: backend domain '${v.backend}' not found`);
        const d = vdisplPaths(domid, backend, devid);
        ctx.onUndo(() => removeVdisplDirectories(xs, d, domid, backend));
        await xs.transaction(async (tx) => {
          if ((await tx.tryRead(`${d.frontendPath}/backend`)) !== undefined)
            throw new ToolstackError("EEXIST", `vdispl ${devid} is in use on domain ${domid}`);
          await writeVdisplDirectories(tx, domid, backend, devid, v);
        });
      },
    });
  });
  if (vdispls.length > 0)
    steps.push({
      name: "wait-vdispl-backends",
      run: async () => {
        const domid = domidOf();
        for (let devid = 0; devid < vdispls.length; devid++) {
          const d = vdisplPaths(domid, vdisplBackendDomid(vdispls[devid]!) ?? 0, devid);
          await waitFor(
            `vdispl ${devid} backend reaching InitWait`,
            timeoutMs,
            async () => {
              const s = Number((await xs.tryRead(`${d.backendPath}/state`)) ?? "0");
              if (s === XenbusState.Closing || s === XenbusState.Closed)
                throw new ToolstackError(
                  "EIO",
                  `vdispl ${devid} backend failed (state ${xenbusStateName(s)})`,
                );
              return s >= XenbusState.InitWait;
            },
            [`${d.backendPath}/state`],
          );
        }
      },
    });
  return steps;
}

/** Destroy: the domain is halted, nobody answers a closing handshake; the directories go. */
export async function removeVdispls(xs: XenbusStoreOps, domid: number): Promise<void> {
  for (const { devid, backend } of await vdisplsOf(xs, domid))
    await removeVdisplDirectories(xs, vdisplPaths(domid, backend, devid), domid, backend);
}
