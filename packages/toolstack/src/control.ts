// Domain control: pause/unpause, xl trigger, the console, and shutdown/reboot requests
// (control/shutdown) with the wait for the guest to act.
import { renderTextScreen, textScreenLines, type VgaTextScreen } from "@xensim/devicemodel";
import { ToolstackError } from "./ports.js";
import { RELEASE_DOMAIN } from "./wait.js";
import { ESRCH, waitFor } from "./common.js";
import type { ToolstackContext } from "./context.js";

export async function pauseDomain(ts: ToolstackContext, domid: number): Promise<void> {
  const rc = await ts.options.hv.domainPause(domid);
  if (rc === ESRCH) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  if (rc !== 0) throw new ToolstackError("EINVAL", `pause: rc ${rc}`);
}

export async function unpauseDomain(ts: ToolstackContext, domid: number): Promise<void> {
  const rc = await ts.options.hv.domainUnpause(domid);
  if (rc === ESRCH) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  if (rc !== 0) throw new ToolstackError("EINVAL", `unpause: rc ${rc}`);
}

/**
 * xl shutdown / reboot: writes control/shutdown and waits for the guest to shut down
 * (SCHEDOP_shutdown). `acted` false when it did not within the timeout (reported, not forced).
 * Refused (EOPNOTSUPP) when the guest never advertised control/feature-<kind>, unless `force`
 * (write the request anyway).
 */
/**
 * `xl trigger D soft-reset` (xensim's trigger; xl's own are nmi, reset, power…): the guest is asked
 * to kexec — control/shutdown = "soft_reset", which the guest kernel answers with
 * SCHEDOP_shutdown(SHUTDOWN_soft_reset) — and the on_soft_reset action follows as for any soft
 * reset. Resolves once the domain has shut down for it (or `acted: false` on timeout).
 */
export async function triggerDomain(
  ts: ToolstackContext,
  domid: number,
  kind: "soft-reset",
  o: { timeoutMs?: number } = {},
): Promise<{ acted: boolean; state: string }> {
  if (domid === 0) throw new ToolstackError("EINVAL", "not for domain 0");
  if (kind !== "soft-reset")
    throw new ToolstackError("EINVAL", `trigger ${String(kind)} is not supported (soft-reset)`);
  const info = await ts.options.hv.domainInfo(domid);
  if (info.rc !== 0 || !info.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  if (!info.info.hvm) throw new ToolstackError("EINVAL", "soft reset needs an HVM domain");
  await ts.options.xs.write(`/local/domain/${domid}/control/shutdown`, "soft_reset");
  ts.options.log.info({ flow: "trigger", step: "request", domid, kind }, "trigger: soft reset requested");
  let state = info.info.state as string;
  try {
    await waitFor(
      ts,
      `domain ${domid} kexec`,
      o.timeoutMs ?? ts.options.shutdownTimeoutMs,
      async () => {
        const i = await ts.options.hv.domainInfo(domid);
        state = i.info?.state ?? "gone";
        return state === "shutdown" || (i.info?.shutdownReason ?? -1) === 5;
      },
      [RELEASE_DOMAIN],
    );
  } catch (e) {
    if (!(e instanceof ToolstackError && e.code === "ETIMEDOUT")) throw e;
    return { acted: false, state };
  }
  return { acted: true, state };
}

/** `xl vga D`: the guest's VGA text screen, as lines and as an RGBA picture (8×16 cells). */
export async function vgaText(
  ts: ToolstackContext,
  domid: number,
): Promise<{ lines: string[]; cursor: VgaTextScreen["cursor"]; screen: VgaTextScreen }> {
  const dm = ts.options.deviceModel;
  if (!dm?.vgaText) throw new ToolstackError("EOPNOTSUPP", "no device model runtime: no VGA");
  const r = await dm.vgaText(domid);
  if (r.rc !== 0 || !r.screen) throw new ToolstackError("ENOENT", `domain ${domid} has no VGA (rc ${r.rc})`);
  return { lines: textScreenLines(r.screen), cursor: r.screen.cursor, screen: r.screen };
}

export function vgaPicture(screen: VgaTextScreen): { width: number; height: number; rgba: Uint8Array } {
  return renderTextScreen(screen);
}

/** `xl console -n serial D`: what the guest's serial port sent from `offset` on. */
export async function consoleRead(
  ts: ToolstackContext,
  domid: number,
  serial: number,
  offset: number,
  waitMs: number,
): Promise<{ data: Uint8Array; next: number }> {
  const dm = ts.options.deviceModel;
  if (!dm) throw new ToolstackError("EOPNOTSUPP", "no device model runtime: no emulated serial ports");
  const r = await dm.consoleRead(domid, serial, offset, waitMs);
  if (r.rc !== 0)
    throw new ToolstackError("ENOENT", `domain ${domid} has no serial port ${serial} (rc ${r.rc})`);
  return { data: r.data, next: r.next };
}

/** Keystrokes into the guest's serial port. */
export async function consoleWrite(
  ts: ToolstackContext,
  domid: number,
  serial: number,
  data: Uint8Array,
): Promise<void> {
  const dm = ts.options.deviceModel;
  if (!dm) throw new ToolstackError("EOPNOTSUPP", "no device model runtime: no emulated serial ports");
  const r = await dm.consoleWrite(domid, serial, data);
  if (r.rc !== 0)
    throw new ToolstackError("ENOENT", `domain ${domid} has no serial port ${serial} (rc ${r.rc})`);
}

export async function requestShutdown(
  ts: ToolstackContext,
  domid: number,
  kind: "poweroff" | "reboot",
  o: { timeoutMs?: number; force?: boolean } = {},
): Promise<{ acted: boolean; state: string }> {
  if (domid === 0) throw new ToolstackError("EINVAL", "not for domain 0");
  const info = await ts.options.hv.domainInfo(domid);
  if (info.rc !== 0 || !info.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  // libxl: without the PV control interface (the guest never advertised control/feature-*) there is
  // nobody to read control/shutdown (ERROR_NOPARAVIRT; Xen would fall back to ACPI, not modelled)
  const feature = await ts.options.xs.tryRead(`/local/domain/${domid}/control/feature-${kind}`);
  if (feature !== "1" && o.force !== true)
    throw new ToolstackError(
      "EOPNOTSUPP",
      `domain ${domid} has no PV control interface (control/feature-${kind} not set by the guest); destroy it instead`,
    );
  const t0 = ts.options.clock.now();
  await ts.options.xs.write(`/local/domain/${domid}/control/shutdown`, kind);
  ts.options.log.info({ flow: "shutdown", step: "request", domid, kind }, `shutdown: requested ${kind}`);
  let state = info.info.state as string;
  try {
    await waitFor(
      ts,
      `domain ${domid} acting on ${kind}`,
      o.timeoutMs ?? ts.options.shutdownTimeoutMs,
      async () => {
        const i = await ts.options.hv.domainInfo(domid);
        state = i.info?.state ?? "gone";
        return state !== "running" && state !== "paused";
      },
      [RELEASE_DOMAIN],
    );
  } catch (e) {
    if (!(e instanceof ToolstackError && e.code === "ETIMEDOUT")) throw e;
    ts.options.log.warn(
      { flow: "shutdown", step: "wait", domid, outcome: "timeout", ms: ts.options.clock.now() - t0 },
      `shutdown: domain ${domid} did not act on ${kind}`,
    );
    return { acted: false, state };
  }
  ts.options.log.info(
    { flow: "shutdown", step: "wait", domid, outcome: "ok", ms: ts.options.clock.now() - t0 },
    `shutdown: domain ${domid} ${state}`,
  );
  return { acted: true, state };
}
