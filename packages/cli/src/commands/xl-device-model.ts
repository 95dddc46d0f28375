// `xensim xl console` and `xensim xl trigger`: a guest's emulated serial ports and the soft-reset
// trigger, through the toolstack's HTTP API.
import type { Command } from "commander";

/** What xl.ts shares with these commands (passed in: no import cycle). */
export interface XlContext {
  base: () => string;
  run: (fn: () => Promise<void>) => () => Promise<void>;
  api: <T>(base: string, method: string, path: string, body?: unknown) => Promise<T>;
  resolveDomain: (base: string, d: string) => Promise<number>;
  /** An error printed as it is (no stack). */
  fail: (message: string) => Error;
}

/** Ctrl-] ends an interactive `xl console`, as in xl. */
const ESCAPE = 0x1d;

export function registerXlDeviceModelCommands(xl: Command, c: XlContext): void {
  const { base, run, api, resolveDomain } = c;
  xl.command("console <domain>")
    .description("attach to a guest's serial console (its device model's UART); Ctrl-] detaches")
    .option("-n <num>", "serial port: 0 = COM1 (default), 1 = the PCI serial of a second emulator", "0")
    .option("-t <type>", "console type (only 'serial' exists here)", "serial")
    .option("--once", "print what the port has sent so far and exit (xensim; for scripts)")
    .action((d: string, opt: { n: string; t: string; once?: boolean }) =>
      run(async () => {
        if (opt.t !== "serial") throw c.fail(`console type '${opt.t}' is not available (serial)`);
        if (!/^\d+$/.test(opt.n)) throw c.fail(`-n ${opt.n}: a serial port number`);
        const id = await resolveDomain(base(), d);
        const url = (offset: number, waitMs: number) =>
          `/domains/${id}/console?serial=${opt.n}&offset=${offset}&waitMs=${waitMs}`;
        const first = await api<{ data: string; next: number }>(base(), "GET", url(0, 0));
        process.stdout.write(Buffer.from(first.data, "base64"));
        let offset = first.next;
        if (opt.once) return;
        let done = false;
        const stdin = process.stdin;
        if (stdin.isTTY) stdin.setRawMode(true);
        stdin.on("data", (chunk: Buffer) => {
          const esc = chunk.indexOf(ESCAPE);
          const send = esc >= 0 ? chunk.subarray(0, esc) : chunk;
          if (send.length)
            void api(base(), "POST", `/domains/${id}/console?serial=${opt.n}`, {
              data: send.toString("base64"),
            }).catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
          if (esc >= 0) done = true;
        });
        stdin.on("end", () => {
          if (!stdin.isTTY) done = true;
        });
        while (!done) {
          const r = await api<{ data: string; next: number }>(base(), "GET", url(offset, 1000));
          process.stdout.write(Buffer.from(r.data, "base64"));
          offset = r.next;
        }
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
      })(),
    );
  xl.command("trigger <domain> <type>")
    .description(
      "send a trigger; 'soft-reset' (xensim) makes the guest kexec: SCHEDOP_shutdown(soft_reset), then on_soft_reset",
    )
    .action((d: string, type: string) =>
      run(async () => {
        if (type !== "soft-reset") throw c.fail(`trigger '${type}' is not supported here (soft-reset)`);
        const id = await resolveDomain(base(), d);
        const r = await api<{ acted?: boolean }>(base(), "POST", `/domains/${id}/trigger?type=soft-reset`);
        if (r.acted === false)
          process.stderr.write(`domain ${id} has not acted on the soft-reset trigger yet\n`);
      })(),
    );
}
