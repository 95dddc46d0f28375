// What every toolstack flow shares: waits on xenstore watches, the flow engine's dependencies, the
// device-model dependencies, the on_* action log, the xenstore helpers.
import { XenErrno } from "@xensim/abi";
import type { XenbusStoreOps } from "@xensim/xenbus";
import type { DomainConfig } from "@xensim/xlcfg";
import type { DeviceModelFlowDeps } from "./device-model.js";
import type { ToolstackDomainInfo } from "./ports.js";
import { waitUntil } from "./wait.js";
import type { ActionRecord, ToolstackContext } from "./context.js";

export const ESRCH = -XenErrno.ESRCH;
export const SHUTDOWN_REASONS = ["poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"] as const;
export function reasonName(r: number): string {
  return SHUTDOWN_REASONS[r] ?? `reason-${r}`;
}
export function xsCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}
export async function rmIfPresent(xs: XenbusStoreOps, path: string): Promise<void> {
  try {
    await xs.rm(path);
  } catch (e) {
    if (xsCode(e) !== "ENOENT") throw e;
  }
}
/** Removes `path` when it has no children (libxl__xs_path_cleanup of empty parents). */
export async function rmIfEmpty(xs: XenbusStoreOps, path: string): Promise<void> {
  try {
    if ((await xs.ls(path)).length === 0) await xs.rm(path);
  } catch (e) {
    if (xsCode(e) !== "ENOENT") throw e;
  }
}
export function stateLetters(i: ToolstackDomainInfo): string {
  const l = ["-", "-", "-", "-", "-", "-"];
  if (i.state === "running") l[0] = "r";
  else if (i.state === "paused") l[2] = "p";
  else if (i.state === "shutdown") l[i.shutdownReason === 3 ? 4 : 3] = i.shutdownReason === 3 ? "c" : "s";
  else if (i.state === "dying" || i.state === "dead") l[5] = "d";
  return l.join("");
}

export function dmDeps(ts: ToolstackContext): DeviceModelFlowDeps | undefined {
  const dm = ts.options.deviceModel;
  if (!dm) return undefined;
  return {
    dm,
    xs: ts.options.xs,
    libDir: ts.options.libDir,
    waitFor: (what, ms, cond, paths) => waitFor(ts, what, ms, cond, paths),
    timeoutMs: ts.options.deviceModelTimeoutMs,
  };
}

export function flowDeps(ts: ToolstackContext) {
  return {
    clock: ts.options.clock,
    log: ts.options.log,
    ...(ts.options.spans ? { spans: ts.options.spans } : {}),
  };
}

/**
 * Waits for `cond`: on watches of `paths` (libxl's xswait) with a re-check every
 * watchFallbackMs, or — for what xenstore does not show — polled every pollMs.
 */
export async function waitFor(
  ts: ToolstackContext,
  what: string,
  ms: number,
  cond: () => Promise<boolean>,
  paths: readonly string[] = [],
): Promise<void> {
  const fallbackMs = paths.length > 0 ? ts.options.watchFallbackMs : ts.options.pollMs;
  await waitUntil({ xs: ts.options.xs, clock: ts.options.clock, fallbackMs }, what, ms, cond, paths);
}

export async function readState(ts: ToolstackContext, path: string): Promise<number | undefined> {
  const v = await ts.options.xs.tryRead(`${path}/state`);
  return v === undefined ? undefined : Number(v);
}

export function noteAction(ts: ToolstackContext, r: ActionRecord): ActionRecord {
  ts.actions.push(r);
  if (ts.actions.length > 256) ts.actions.shift();
  return r;
}

export async function removeSkeleton(ts: ToolstackContext, domid: number, uuid: string): Promise<void> {
  const xs = ts.options.xs;
  await rmIfPresent(xs, `/local/domain/${domid}`);
  await rmIfPresent(xs, `/vm/${uuid}`);
  await rmIfPresent(xs, `/libxl/${domid}`);
}

/**
 * The domain's config as libxl keeps it (its userdata): here JSON under /libxl/<domid>/config,
 * dom0-only, so a restarted toolstack knows its domains again (`recover`). Skipped (with a
 * warning) past what one xenstore value holds.
 */
export async function saveConfig(
  ts: ToolstackContext,
  ops: XenbusStoreOps,
  domid: number,
  config: DomainConfig,
): Promise<void> {
  const text = JSON.stringify(config);
  if (text.length > 3800) {
    ts.options.log.warn(
      { domid, bytes: text.length },
      "config too large to keep in xenstore: not recoverable",
    );
    await rmIfPresent(ops, `/libxl/${domid}/config`);
    return;
  }
  await ops.write(`/libxl/${domid}/config`, text);
}
