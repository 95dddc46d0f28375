import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createInProcessBus } from "@xensim/bus";
import { startNatsServer, waitFor } from "@xensim/testkit";
import { startHost } from "./host.js";
import { createLogger } from "./log.js";

const entry = (f: string): URL => new URL(`./testing/${f}`, import.meta.url);
const quiet = () => createLogger({ svc: "host", host: "t", level: "silent" });

test("host: two services in worker threads talk over the in-process bus and calls, and share the SAB", async () => {
  const host = await startHost({
    hostId: "h-test",
    sharedMemoryBytes: 4096,
    log: quiet(),
    logLevel: "warn",
    services: [
      { name: "ping", entry: entry("svc-ping.js"), config: { greeting: "hi" } },
      { name: "pong", entry: entry("svc-pong.js") },
    ],
  });
  try {
    await host.ready;
    const view = new Int32Array(host.sharedMemory);
    await waitFor(() => Atomics.load(view, 1) === 1, { timeoutMs: 10_000, message: "pong's result" });
    assert.equal(Atomics.load(view, 2), 0xc0ffee);
    assert.equal(Atomics.load(view, 0), 0xc0ffee);
    const threads = [...host.services.values()].map((s) => s.threadId);
    assert.equal(new Set(threads).size, 2);
    assert.ok([...host.services.values()].every((s) => s.state === "ready"));

    // Join the host's bus from this thread and ask pong what it saw.
    const bus = createInProcessBus({ name: host.busName });
    try {
      await bus.flush();
      const m = await waitFor(
        () => bus.request("test.result", new Uint8Array(0), { timeoutMs: 500 }).catch(() => undefined),
        { timeoutMs: 5000 },
      );
      assert.deepEqual(JSON.parse(new TextDecoder().decode(m.data)), {
        bus: "hi from ping",
        call: "ping@h-test",
        sab: 0xc0ffee,
      });
    } finally {
      await bus.close();
    }

    const h = await host.health();
    assert.equal(h.status, "ok");
    assert.deepEqual(Object.keys(h.checks as object).sort(), ["ping", "pong"]);
    const metrics = await host.metrics();
    assert.match(metrics.body, /ping_requests_total\{svc="ping",host="h-test"\} [1-9]/);
  } finally {
    await host.stop();
  }
  await host.done;
  assert.ok([...host.services.values()].every((s) => s.state === "stopped"));
  assert.equal(host.failures.length, 0);
});

test("host with nats: services use a real NATS server for events and still share the SAB", async () => {
  const nats = await startNatsServer();
  const host = await startHost({
    hostId: "h-nats",
    nats: nats.url,
    sharedMemoryBytes: 4096,
    log: quiet(),
    logLevel: "warn",
    services: [
      { name: "ping", entry: entry("svc-ping.js"), config: { greeting: "nats" } },
      { name: "pong", entry: entry("svc-pong.js") },
    ],
  });
  try {
    await host.ready;
    const view = new Int32Array(host.sharedMemory);
    await waitFor(() => Atomics.load(view, 1) === 1, { timeoutMs: 10_000, message: "pong's result" });
    assert.equal(Atomics.load(view, 2), 0xc0ffee);
    assert.ok([...host.services.values()].every((s) => /^127\.0\.0\.1:\d+$/.test(s.grpcAddress ?? "")));
  } finally {
    await host.stop();
    await nats.stop();
  }
});

test("host: /healthz and /metrics over HTTP for the whole host", async () => {
  const host = await startHost({
    log: quiet(),
    logLevel: "warn",
    http: { port: 0 },
    services: [{ name: "ping", entry: entry("svc-ping.js") }],
  });
  try {
    await host.ready;
    const r = await fetch(`${host.httpAddress}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, "ok");
    const m = await fetch(`${host.httpAddress}/metrics`);
    assert.match(await m.text(), /# TYPE ping_requests_total counter/);
  } finally {
    await host.stop();
  }
});

test("host: a service that fails to start rejects ready, naming it", async () => {
  const host = await startHost({
    log: quiet(),
    logLevel: "silent",
    services: [
      { name: "ping", entry: entry("svc-ping.js") },
      { name: "crash", entry: entry("svc-crash.js"), config: { mode: "start" } },
    ],
  });
  await assert.rejects(host.ready, /service crash failed: crash: start failed: cannot start on purpose/);
  await assert.rejects(host.done, /crash/);
  await host.stop();
  assert.equal(host.failures[0]?.service, "crash");
  assert.ok([...host.services.values()].every((s) => s.state === "stopped" || s.state === "failed"));
});

test("host: bad config for a service is a start failure with the key in the message", async () => {
  const host = await startHost({
    log: quiet(),
    logLevel: "silent",
    services: [{ name: "crash", entry: entry("svc-crash.js"), config: { mode: "sideways" } }],
  });
  await assert.rejects(host.ready, /mode: Invalid option/);
  await host.stop();
});

for (const mode of ["later", "exit"] as const) {
  test(`host: a worker that dies after ready (${mode}) is reported and the host stops the rest`, async () => {
    const host = await startHost({
      log: quiet(),
      logLevel: "silent",
      services: [
        { name: "ping", entry: entry("svc-ping.js") },
        { name: "crash", entry: entry("svc-crash.js"), config: { mode } },
      ],
    });
    const seen: string[] = [];
    host.onFailure((f) => seen.push(`${f.service}: ${f.message}`));
    // Under load "ping" may become ready only after "crash" has already died (500 ms after its
    // start): then `ready` rejects too. Either way the failure is reported and the rest stopped.
    await host.ready.catch(() => {});
    await assert.rejects(host.done, /service crash failed/);
    assert.equal(seen.length, 1);
    assert.match(seen[0] as string, mode === "later" ? /boom after start/ : /exited with code 3/);
    await host.stop();
    assert.equal(host.services.get("ping")?.state, "stopped");
  });
}

function runChild(args: string[]): {
  child: ReturnType<typeof spawn>;
  lines: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: Array<Record<string, unknown>> = [];
  let buf = "";
  child.stdout?.on("data", (b: Buffer) => {
    buf += b.toString();
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        lines.push({ raw: l });
      }
      i = buf.indexOf("\n");
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines, exit };
}

test("a real host process stops cleanly on SIGTERM: every service's stop() runs, exit 0", async () => {
  const { child, lines, exit } = runChild([fileURLToPath(entry("host-main.js"))]);
  try {
    await waitFor(() => lines.some((l) => l.event === "host-ready"), {
      timeoutMs: 15_000,
      message: "host ready",
    });
    await waitFor(() => lines.some((l) => l.svc === "pong" && l.event === "result"), { timeoutMs: 10_000 });
    assert.ok(child.pid);
    process.kill(child.pid, "SIGTERM");
    assert.equal(await exit, 0);
    const stopped = lines.filter((l) => l.event === "stopped").map((l) => l.svc);
    assert.deepEqual(stopped.sort(), ["ping", "pong"]);
    assert.ok(lines.some((l) => l.event === "host-stopped"));
    // pong stopped before ping (reverse start order)
    const order = lines.filter((l) => l.event === "stopped").map((l) => l.svc);
    assert.deepEqual(order, ["pong", "ping"]);
  } finally {
    if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
  }
});

test("a standalone service process serves /healthz and /metrics and stops on SIGINT with exit 0", async () => {
  const { child, lines, exit } = runChild([
    fileURLToPath(entry("svc-ping.js")),
    "--http-port",
    "0",
    "--shared-memory-bytes",
    "4096",
    "--greeting",
    "yo",
    "--host-id",
    "solo",
  ]);
  try {
    const ready = await waitFor(() => lines.find((l) => l.event === "ready"), { timeoutMs: 15_000 });
    assert.equal(ready.svc, "ping");
    assert.equal(ready.host, "solo");
    const http = ready.http as string;
    const r = await fetch(`${http}/healthz`);
    assert.equal(r.status, 200);
    assert.match(
      await (await fetch(`${http}/metrics`)).text(),
      /ping_requests_total\{svc="ping",host="solo"\} 0/,
    );
    assert.ok(child.pid);
    process.kill(child.pid, "SIGINT");
    assert.equal(await exit, 0);
    assert.ok(lines.some((l) => l.event === "stopped" && l.svc === "ping"));
  } finally {
    if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
  }
});

test("host: restartService kills or stops one worker and starts a fresh one on the same memory and bus", async () => {
  const host = await startHost({
    hostId: "h-restart",
    sharedMemoryBytes: 4096,
    log: quiet(),
    logLevel: "warn",
    services: [
      { name: "ping", entry: entry("svc-ping.js"), config: { greeting: "again" } },
      { name: "pong", entry: entry("svc-pong.js") },
    ],
  });
  const bus = createInProcessBus({ name: host.busName });
  try {
    await host.ready;
    const ping = () =>
      waitFor(() => bus.request("test.ping", new Uint8Array(0), { timeoutMs: 300 }).catch(() => undefined), {
        timeoutMs: 5000,
      });
    await ping();
    const firstThread = host.services.get("ping")!.threadId;
    const view = new Int32Array(host.sharedMemory);
    Atomics.store(view, 0, 0);
    for (const kill of [true, false]) {
      await host.restartService("ping", { kill });
      const s = host.services.get("ping")!;
      assert.equal(s.state, "ready");
      assert.notEqual(s.threadId, firstThread);
      assert.equal(Atomics.load(view, 0), 0xc0ffee, "the new worker marked the same shared memory");
      Atomics.store(view, 0, 0);
      const m = await ping();
      assert.equal(new TextDecoder().decode(m.data), "again from ping", "answers on the same bus");
    }
    assert.equal(host.failures.length, 0, "a restart is not a failure");
    const health = (await host.health()).checks as Record<string, { ok: boolean }>;
    assert.equal(health.ping?.ok, true, "the new worker answers health");
    await assert.rejects(host.restartService("nope"), /no service 'nope'/);
  } finally {
    await bus.close();
    await host.stop();
  }
  await host.done;
});
