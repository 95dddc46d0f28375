// A pure parser of the NATS client protocol (server → client ops). It is fed chunks as they arrive
// and keeps partial ops across calls; it does no I/O (the socket lives in connection.ts).

export type ServerOp =
  | { op: "INFO"; info: Record<string, unknown> }
  | {
      op: "MSG";
      subject: string;
      sid: number;
      reply: string | undefined;
      headers: Record<string, string> | undefined;
      status: string | undefined;
      data: Uint8Array;
    }
  | { op: "PING" }
  | { op: "PONG" }
  | { op: "OK" }
  | { op: "ERR"; message: string };

const CRLF = Buffer.from("\r\n");

export class NatsParseError extends Error {
  override readonly name = "NatsParseError";
}

export class NatsParser {
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds a chunk; returns every op completed by it. */
  feed(chunk: Uint8Array): ServerOp[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const ops: ServerOp[] = [];
    let off = 0;
    for (;;) {
      const eol = this.buf.indexOf(CRLF, off);
      if (eol < 0) break;
      const line = this.buf.toString("latin1", off, eol);
      const sp = line.indexOf(" ");
      const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      if (verb === "MSG" || verb === "HMSG") {
        const args = line
          .slice(sp + 1)
          .split(" ")
          .filter((a) => a !== "");
        const isH = verb === "HMSG";
        // MSG <subject> <sid> [reply] <#bytes>;  HMSG <subject> <sid> [reply] <#hdr> <#total>
        const nFixed = isH ? 4 : 3;
        if (args.length !== nFixed && args.length !== nFixed + 1)
          throw new NatsParseError(`bad ${verb} line: ${line}`);
        const subject = args[0] as string;
        const sid = Number(args[1]);
        const reply = args.length === nFixed + 1 ? args[2] : undefined;
        const total = Number(args[args.length - 1]);
        const hdrLen = isH ? Number(args[args.length - 2]) : 0;
        const start = eol + 2;
        if (this.buf.length < start + total + 2) break; // wait for the payload
        let headers: Record<string, string> | undefined;
        let status: string | undefined;
        if (isH) {
          const parsed = parseHeaders(this.buf.toString("utf8", start, start + hdrLen));
          headers = parsed.headers;
          status = parsed.status;
        }
        const data = new Uint8Array(this.buf.subarray(start + hdrLen, start + total));
        ops.push({ op: "MSG", subject, sid, reply, headers, status, data });
        off = start + total + 2;
        continue;
      }
      off = eol + 2;
      switch (verb) {
        case "INFO":
          ops.push({ op: "INFO", info: JSON.parse(line.slice(sp + 1)) as Record<string, unknown> });
          break;
        case "PING":
          ops.push({ op: "PING" });
          break;
        case "PONG":
          ops.push({ op: "PONG" });
          break;
        case "+OK":
          ops.push({ op: "OK" });
          break;
        case "-ERR":
          ops.push({ op: "ERR", message: line.slice(sp + 1).replace(/^'|'$/g, "") });
          break;
        default:
          throw new NatsParseError(`unknown op: ${line.slice(0, 80)}`);
      }
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return ops;
  }
}

/** Parses a NATS header block ("NATS/1.0[ status[ text]]\r\nK: V\r\n...\r\n\r\n"). */
export function parseHeaders(block: string): {
  headers: Record<string, string> | undefined;
  status: string | undefined;
} {
  const lines = block.split("\r\n");
  const first = lines[0] ?? "";
  const m = /^NATS\/1\.0(?:\s+(\d{3}))?/.exec(first);
  const status = m?.[1];
  const headers: Record<string, string> = {};
  let any = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l === "") continue;
    const c = l.indexOf(":");
    if (c <= 0) continue;
    headers[l.slice(0, c).trim()] = l.slice(c + 1).trim();
    any = true;
  }
  return { headers: any ? headers : undefined, status };
}

/** Encodes a header block for HPUB. */
export function encodeHeaders(h: Record<string, string>): Buffer {
  let s = "NATS/1.0\r\n";
  for (const [k, v] of Object.entries(h)) {
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new Error(`invalid header ${JSON.stringify(k)}`);
    s += `${k}: ${v}\r\n`;
  }
  s += "\r\n";
  return Buffer.from(s, "utf8");
}
