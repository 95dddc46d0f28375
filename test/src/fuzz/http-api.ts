// The HTTP API's fuzz target: raw HTTP/1.1 requests, mutated from golden ones (every route, with the
// API token), sent one per connection to a running toolstack. The server must answer each with a
// status line, or close, within a few seconds; never a 5xx except a create flow that failed and said
// which step (a JSON body with `step`); and keep serving: `GET /domains` answers 200 afterwards.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { mutate } from "./driver.js";
import { Mulberry32 } from "@xensim/random";

export const HTTP_API_CORPUS = "services/toolstack/src/fuzz-corpus/http-api";

function seeds(token: string): Uint8Array[] {
  const enc = new TextEncoder();
  const req = (method: string, path: string, body?: string, type = "application/json") =>
    enc.encode(
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n` +
        (body !== undefined
          ? `Content-Type: ${type}\r\nContent-Length: ${enc.encode(body).length}\r\n`
          : "") +
        `\r\n${body ?? ""}`,
    );
  const cfg = 'name = "f"\nmemory = 4\nxensim_workload = "idle"';
  return [
    req("GET", "/domains"),
    req("GET", "/openapi.json"),
    req("GET", "/recovery"),
    req("GET", "/actions"),
    req("POST", "/domains?dryRun=1", JSON.stringify({ config: cfg, filename: "f.cfg" })),
    req("POST", "/domains?filename=t.cfg", cfg, "text/plain"),
    req(
      "POST",
      "/domains",
      JSON.stringify({ config: `${cfg}\ndisk = [ 'vdev=xvda, target=memory:size=1M' ]` }),
    ),
    req("GET", "/domains/0"),
    req("DELETE", "/domains/1"),
    req("POST", "/domains/1/pause"),
    req("POST", "/domains/1/shutdown?timeoutMs=10&force=1"),
    req("GET", "/domains/1/disks"),
    req("POST", "/domains/1/disks", JSON.stringify({ spec: "vdev=xvdb, target=null:size=1M" })),
    req("DELETE", "/domains/1/disks/xvdb?force=1"),
  ];
}

function send(
  port: number,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<{ status?: number; body: string; hung: boolean }> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (hung: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      resolve({ ...(m ? { status: Number(m[1]) } : {}), body, hung });
    };
    const t = setTimeout(() => finish(true), timeoutMs);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", () => finish(false));
    sock.on("close", () => finish(false));
    sock.on("connect", () => {
      sock.write(bytes);
      sock.end(); // half-close: the request is all there is
    });
  });
}

export interface HttpFuzzRun {
  target: "http-api";
  seed: number;
  runs: number;
  ms: number;
  statuses: Record<string, number>;
  crashes: Array<{ index: number; error: string; file?: string }>;
}

/** Fuzzes the API at 127.0.0.1:`port` with `runs` requests; `alive()` must hold afterwards. */
export async function fuzzHttpApi(options: {
  port: number;
  token: string;
  runs: number;
  seed: number;
  root?: string;
  timeoutMs?: number;
}): Promise<HttpFuzzRun> {
  const t0 = performance.now();
  const rng = new Mulberry32(options.seed);
  const rnd = () => rng.next();
  const base = seeds(options.token);
  const statuses: Record<string, number> = {};
  const crashes: HttpFuzzRun["crashes"] = [];
  for (let i = 0; i < options.runs; i++) {
    const input =
      i < base.length ? base[i]! : mutate(base[Math.floor(rnd() * base.length)]!, base, 64 * 1024, rnd);
    const r = await send(options.port, input, options.timeoutMs ?? 10_000);
    const key = r.status === undefined ? (r.hung ? "hung" : "closed") : String(r.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    let error: string | undefined;
    if (r.hung) error = "no answer and no close";
    else if (r.status !== undefined && r.status >= 500) {
      let step: unknown;
      try {
        step = (JSON.parse(r.body) as { step?: unknown }).step;
      } catch {
        step = undefined;
      }
      if (typeof step !== "string") error = `HTTP ${r.status} without a failed step: ${r.body.slice(0, 200)}`;
    }
    if (error !== undefined) {
      const c: HttpFuzzRun["crashes"][number] = { index: i, error };
      if (options.root) {
        const dir = join(options.root, HTTP_API_CORPUS);
        mkdirSync(dir, { recursive: true });
        c.file = join(dir, createHash("sha256").update(input).digest("hex").slice(0, 16));
        writeFileSync(c.file, input);
      }
      crashes.push(c);
      if (crashes.length >= 10) break;
    }
  }
  return {
    target: "http-api",
    seed: options.seed,
    runs: options.runs,
    ms: Math.round(performance.now() - t0),
    statuses,
    crashes,
  };
}
