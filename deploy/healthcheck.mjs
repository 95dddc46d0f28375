#!/usr/bin/env node
// The containers' health check (no curl in a scratch image): the host process is up (deploy/host.mjs
// wrote its ready file after every service was ready and its gRPC ports were exposed) and its
// /healthz says ok. With an argument, only that URL's /healthz (the nats container: its monitor).
import { existsSync } from "node:fs";

const url = process.argv[2] ?? `http://127.0.0.1:${process.env.XENSIM_HTTP_PORT ?? 9100}/healthz`;
try {
  if (!process.argv[2] && !existsSync("/tmp/xensim-host-ready")) throw new Error("host not ready yet");
  const r = await fetch(url, { signal: AbortSignal.timeout(2500) });
  const body = await r.text();
  if (!r.ok) throw new Error(`${r.status} ${body}`);
  const j = JSON.parse(body);
  if (j.status !== "ok") throw new Error(body);
  process.exit(0);
} catch (e) {
  console.error(`unhealthy: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
