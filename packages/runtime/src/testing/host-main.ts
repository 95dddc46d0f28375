// Test-only host process: ping + pong in worker threads; the runtime test sends it SIGTERM.
import { runHostMain } from "../index.js";

await runHostMain({
  hostId: "test-host",
  sharedMemoryBytes: 64 * 1024,
  services: [
    { name: "ping", entry: new URL("./svc-ping.js", import.meta.url), config: { greeting: "hi" } },
    { name: "pong", entry: new URL("./svc-pong.js", import.meta.url) },
  ],
});
