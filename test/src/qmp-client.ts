// A plain QMP client over a unix socket (what libxl and `socat` speak to qemu-xen): JSON lines in,
// replies and events out. Test-only.
import { connect } from "node:net";
import { waitFor } from "@xensim/testkit";

/** A plain QMP client over the unix socket: JSON lines in, replies and events out. */
export async function qmpClient(path: string) {
  const sock = connect(path);
  sock.setEncoding("utf8");
  const messages: Record<string, unknown>[] = [];
  let buf = "";
  sock.on("data", (t: string) => {
    buf += t;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) messages.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  await new Promise<void>((resolve, reject) => sock.once("connect", resolve).once("error", reject));
  const next = async (pred: (m: Record<string, unknown>) => boolean, what: string) => {
    const m = await waitFor(() => messages.find(pred), { timeoutMs: 5000, message: what });
    messages.splice(messages.indexOf(m), 1);
    return m;
  };
  let seq = 0;
  return {
    messages,
    raw: (text: string) => sock.write(text),
    next,
    /** Send a command with an id; its reply. */
    async execute(cmd: string, args?: object) {
      const id = `c${++seq}`;
      sock.write(`${JSON.stringify({ execute: cmd, ...(args ? { arguments: args } : {}), id })}\n`);
      return next((m) => m["id"] === id, `reply to ${cmd}`);
    },
    close: () => sock.destroy(),
  };
}
