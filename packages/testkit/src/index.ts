export { type TempDir, tempDir } from "./fs.js";
export { findNatsServer, type NatsServer, type NatsServerOptions, startNatsServer } from "./nats-server.js";
export { type SeededRandom, seededRandom, testSeed } from "./random.js";
export { freePort, sleep, type WaitForOptions, waitFor } from "./wait.js";
export { type JsonLinesChild, spawnJsonLinesChild } from "./fixture.js";
