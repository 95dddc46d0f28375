// Linux xenbus_reset_state (drivers/xen/xenbus/xenbus_probe_frontend.c): a kernel booting where an
// earlier one ran (kexec, a Halt and Boot elsewhere) finds its devices not in Initialising. Each is
// walked back — Closing, Closed once the backend follows, then Initialising, and the backend's
// InitWait awaited — so discovery (which probes only Initialising devices) picks it up again.
import { XenbusState } from "@xensim/abi";
import type { XenstoreClient } from "@xensim/xenstore-client";

async function waitState(
  xs: XenstoreClient,
  path: string,
  ok: (s: number) => boolean,
  deadline: number,
): Promise<boolean> {
  for (;;) {
    const v = await xs.tryRead(path);
    if (v === undefined) return false;
    if (ok(Number(v))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Resets every device under `<home>/device/<type>` left by a previous kernel; returns the devids
 * reset. Devices already Initialising, or whose backend does not follow within `timeoutMs`, are left.
 */
export async function resetFrontendStates(
  xs: XenstoreClient,
  home: string,
  type: string,
  timeoutMs = 5000,
): Promise<string[]> {
  const root = `${home}/device/${type}`;
  const ids = await xs.ls(root).catch(() => [] as string[]);
  const done: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const dev = `${root}/${id}`;
      const raw = await xs.tryRead(`${dev}/state`);
      const backend = await xs.tryRead(`${dev}/backend`);
      if (raw === undefined || backend === undefined) return;
      const state = Number(raw);
      if (state === XenbusState.Initialising) return;
      const deadline = Date.now() + timeoutMs;
      const be = `${backend}/state`;
      if (state !== XenbusState.Closed) {
        if (state !== XenbusState.Closing) await xs.write(`${dev}/state`, String(XenbusState.Closing));
        if (
          !(await waitState(xs, be, (s) => s === XenbusState.Closing || s === XenbusState.Closed, deadline))
        )
          return;
        await xs.write(`${dev}/state`, String(XenbusState.Closed));
      }
      if (!(await waitState(xs, be, (s) => s === XenbusState.Closed, deadline))) return;
      await xs.write(`${dev}/state`, String(XenbusState.Initialising));
      if (await waitState(xs, be, (s) => s === XenbusState.InitWait, deadline)) done.push(id);
    }),
  );
  return done;
}
