// `xensim xl console` and `xensim xl trigger`: a guest's emulated serial ports (its device model's
// UARTs) and the soft-reset trigger, through the toolstack's HTTP API.
import type { Command } from "commander";
import { examples } from "../../command.js";
import { api, apiBase, resolveDomain, run, XlError } from "./api.js";

/** Ctrl-] ends an interactive `xl console`, as in xl. */
const ESCAPE = 0x1d;

export default function registerDeviceModel(xl: Command): void {
  const base = () => apiBase(xl);
  xl.command("console <domain>")
    .addHelpText(
      "after",
      examples("npx xensim xl console guest1", "npx xensim xl console -n 1 guest1 --once"),
    )
    .description("attach to a guest's serial console (its device model's UART); Ctrl-] detaches")
    .option("-n <num>", "serial port: 0 = COM1 (default), 1 = the PCI serial of a second emulator", "0")
    .option("-t <type>", "console type (only 'serial' exists here)", "serial")
    .option("--once", "print what the port has sent so far and exit (xensim; for scripts)")
    .action((d: string, opt: { n: string; t: string; once?: boolean }) =>
      run(async () => {
        if (opt.t !== "serial") throw new XlError(`console type '${opt.t}' is not available (serial)`);
        if (!/^\d+$/.test(opt.n)) throw new XlError(`-n ${opt.n}: a serial port number`);
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
    .addHelpText("after", examples("npx xensim xl trigger guest1 soft-reset"))
    .description(
      "send a trigger; 'soft-reset' (xensim) makes the guest kexec: SCHEDOP_shutdown(soft_reset), then on_soft_reset",
    )
    .action((d: string, type: string) =>
      run(async () => {
        if (type !== "soft-reset") throw new XlError(`trigger '${type}' is not supported here (soft-reset)`);
        const id = await resolveDomain(base(), d);
        const r = await api<{ acted?: boolean }>(base(), "POST", `/domains/${id}/trigger?type=soft-reset`);
        if (r.acted === false)
          process.stderr.write(`domain ${id} has not acted on the soft-reset trigger yet\n`);
      })(),
    );
}
