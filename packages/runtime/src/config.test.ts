import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "@xensim/testkit";
import fc from "fast-check";
import { z } from "zod";
import { closest, ConfigError, parseArgvFlags, parseConfig } from "./config.js";

const Schema = z.object({
  name: z.string(),
  http: z.object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default("127.0.0.1"),
  }),
  verbose: z.boolean().default(false),
  ringPages: z.array(z.number().int()).default([1]),
  natsUrl: z.string().optional(),
  mode: z.enum(["embedded", "distributed"]).default("embedded"),
});

test("parseConfig: defaults, precedence file < env < argv < overrides, deeply frozen", () => {
  using dir = tempDir("xensim-cfg-");
  const file = join(dir.path, "c.json");
  writeFileSync(file, JSON.stringify({ name: "from-file", http: { port: 1 }, natsUrl: "nats://file" }));
  const c = parseConfig(Schema, {
    file,
    env: {
      XENSIM_HTTP__PORT: "2",
      XENSIM_NATS_URL: "nats://env",
      XENSIM_VERBOSE: "yes",
      OTHER: "x",
      XENSIM_UNRELATED: "1",
    },
    argv: ["--http.port=3", "--ring-pages", "1,4,64", "--no-verbose"],
    overrides: { name: "over" },
  });
  assert.deepEqual(c, {
    name: "over",
    http: { port: 3, host: "127.0.0.1" },
    verbose: false,
    ringPages: [1, 4, 64],
    natsUrl: "nats://env",
    mode: "embedded",
  });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.http) && Object.isFrozen(c.ringPages));
  assert.throws(() => {
    (c as { name: string }).name = "x";
  }, TypeError);
  assert.throws(() => {
    (c.ringPages as number[]).push(2);
  }, TypeError);
});

test("parseConfig: errors name the key, the problem and where the value came from", () => {
  assert.throws(
    () => parseConfig(Schema, { env: { XENSIM_HTTP__PORT: "eighty" }, argv: ["--mode", "cloud"] }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, "CONFIG_INVALID");
      assert.match(e.message, /name: .*expected string/);
      assert.match(e.message, /http\.port: .*expected number.*\(from env XENSIM_HTTP__PORT="eighty"\)/);
      assert.match(e.message, /mode: .*"embedded"\|"distributed".*\(from argv --mode\)/);
      assert.equal(e.issues.length, 3);
      return true;
    },
  );
  assert.throws(
    () => parseConfig(Schema, { file: "/nonexistent/x.json" }),
    /cannot read \/nonexistent\/x\.json/,
  );
  assert.throws(
    () => parseConfig(Schema, { overrides: { name: "n", http: { port: 70000 } } }),
    /http\.port: .*65535/,
  );
});

test("parseConfig: an unknown key names the closest key and every valid key at its place", () => {
  const Strict = z.object({ ringPages: z.number(), http: z.object({ port: z.number() }).strict() }).strict();
  assert.throws(
    () => parseConfig(Strict, { overrides: { ringPage: 1, http: { prt: 1 } } }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(
        e.issues.includes(
          '(root): Unrecognized key: "ringPage"; did you mean ringPages?; valid keys: ringPages, http',
        ),
        e.message,
      );
      assert.ok(
        e.issues.includes('http: Unrecognized key: "prt"; did you mean port?; valid keys: port'),
        e.message,
      );
      return true;
    },
  );
  assert.equal(closest("hypervisorhost", ["hypervisor", "hypervisorHost"]), "hypervisorHost");
  assert.equal(closest("zzzzzz", ["hypervisor", "xenstored"]), undefined);
});

test("parseArgvFlags: forms of flags", () => {
  assert.deepEqual(
    parseArgvFlags(["pos", "--a.b-c=1", "--d", "x", "--e", "--no-f", "--g=", "--"]).map((f) => [
      f.path,
      f.raw,
    ]),
    [
      [["a", "bC"], "1"],
      [["d"], "x"],
      [["e"], true],
      [["f"], false],
      [["g"], ""],
    ],
  );
});

test("parseConfig: any port number round-trips through env and argv (property)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.boolean(), (port, viaEnv) => {
      const c = viaEnv
        ? parseConfig(Schema, { env: { XENSIM_NAME: "n", XENSIM_HTTP__PORT: String(port) } })
        : parseConfig(Schema, { argv: ["--name", "n", "--http.port", String(port)] });
      return c.http.port === port;
    }),
  );
});
