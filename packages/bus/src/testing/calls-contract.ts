// The call-plane contract: one suite, run against every adapter (gRPC on loopback, in-process).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { loadEchoProto } from "@xensim/proto";
import type { CallClient, CallContext, CallServer, UnaryHandler } from "../calls.js";
import { CallError, GrpcStatus } from "../errors.js";

export function echoDefinition(): grpc.ServiceDefinition {
  return loadEchoProto().xensim.testing.v1.Echo.service;
}

export interface CallSetup {
  server: CallServer;
  client: CallClient;
  /** A client aimed at a server that does not exist. */
  nowhere(): CallClient;
  close(): Promise<void>;
}
export type CallSetupFactory = (
  def: grpc.ServiceDefinition,
  impl: Record<string, UnaryHandler>,
  opts: { seed?: number },
) => Promise<CallSetup>;

interface EchoReq {
  text: string;
  data: Buffer;
  seq: string;
}

export const echoImpl = (servedBy: string, seen?: CallContext[]): Record<string, UnaryHandler> => ({
  Echo: async (req: EchoReq, ctx: CallContext) => {
    seen?.push(ctx);
    if (req.text === "sleep") await new Promise((r) => setTimeout(r, 300));
    if (req.text === "throw") throw new Error("plain failure");
    return { text: req.text, data: req.data, seq: req.seq, servedBy };
  },
  Fail: async (req: { code: number; message: string }) => {
    throw new CallError(req.code, req.message, { metadata: { "x-reason": "asked" } });
  },
});

export function callContract(adapter: string, factory: CallSetupFactory): void {
  const def = echoDefinition();
  const withSetup = async (
    fn: (s: CallSetup, seen: CallContext[]) => Promise<void>,
    opts: { seed?: number; impl?: Record<string, UnaryHandler> } = {},
  ): Promise<void> => {
    const seen: CallContext[] = [];
    const s = await factory(
      def,
      opts.impl ?? echoImpl(adapter, seen),
      opts.seed !== undefined ? { seed: opts.seed } : {},
    );
    try {
      await fn(s, seen);
    } finally {
      await s.close();
    }
  };

  describe(`call contract: ${adapter}`, () => {
    test("unary round trip: bytes as Buffers, uint64 as strings, metadata and peer", () =>
      withSetup(async ({ client }, seen) => {
        const res = await client.call<unknown, Record<string, unknown>>(
          "Echo",
          { text: "hello", data: Buffer.from([1, 2, 3]), seq: "18446744073709551615" },
          { metadata: { "x-trace": "t1" }, deadlineMs: 5000 },
        );
        assert.deepEqual(res, {
          text: "hello",
          data: Buffer.from([1, 2, 3]),
          seq: "18446744073709551615",
          servedBy: adapter,
        });
        assert.ok(Buffer.isBuffer(res.data));
        const ctx = seen[0] as CallContext;
        assert.equal(ctx.metadata["x-trace"], "t1");
        assert.equal(ctx.method, "/xensim.testing.v1.Echo/Echo");
        assert.ok(ctx.peer.length > 0);
        assert.ok(
          ctx.deadline !== undefined && ctx.deadline > Date.now() && ctx.deadline <= Date.now() + 5100,
        );
      }));

    test("proto3 defaults are filled in on both sides", () =>
      withSetup(async ({ client }) => {
        const res = await client.call("Echo", {});
        assert.deepEqual(res, { text: "", data: Buffer.alloc(0), seq: "0", servedBy: adapter });
      }));

    test("methods resolve by key, original name and full path", () =>
      withSetup(async ({ client }) => {
        for (const m of ["Echo", "/xensim.testing.v1.Echo/Echo"]) {
          const r = await client.call<unknown, { text: string }>(m, { text: m });
          assert.equal(r.text, m);
        }
        await assert.rejects(client.call("Nope", {}), (e: unknown) =>
          CallError.is(e, GrpcStatus.UNIMPLEMENTED),
        );
      }));

    test("a CallError thrown by a handler reaches the client unchanged", () =>
      withSetup(async ({ client }) => {
        for (const code of [
          GrpcStatus.NOT_FOUND,
          GrpcStatus.FAILED_PRECONDITION,
          GrpcStatus.RESOURCE_EXHAUSTED,
        ]) {
          await assert.rejects(client.call("Fail", { code, message: `ENOENT ${code}` }), (e: unknown) => {
            assert.ok(e instanceof CallError);
            assert.equal(e.code, code);
            assert.equal(e.details, `ENOENT ${code}`);
            assert.equal(e.metadata["x-reason"], "asked");
            return true;
          });
        }
      }));

    test("another error thrown by a handler arrives as UNKNOWN with its message", () =>
      withSetup(async ({ client }) => {
        await assert.rejects(client.call("Echo", { text: "throw" }), (e: unknown) => {
          assert.ok(CallError.is(e, GrpcStatus.UNKNOWN));
          assert.match(e.details, /plain failure/);
          return true;
        });
      }));

    test("deadline gives DEADLINE_EXCEEDED", () =>
      withSetup(async ({ client }) => {
        const t0 = Date.now();
        await assert.rejects(client.call("Echo", { text: "sleep" }, { deadlineMs: 50 }), (e: unknown) =>
          CallError.is(e, GrpcStatus.DEADLINE_EXCEEDED),
        );
        assert.ok(Date.now() - t0 < 280);
      }));

    test("a method the server did not register gives UNIMPLEMENTED", () =>
      withSetup(
        async ({ client }) => {
          await assert.rejects(client.call("Fail", { code: 5, message: "x" }), (e: unknown) =>
            CallError.is(e, GrpcStatus.UNIMPLEMENTED),
          );
        },
        { impl: { Echo: async (r: unknown) => r } },
      ));

    test("no server there gives UNAVAILABLE", () =>
      withSetup(async ({ nowhere }) => {
        const c = nowhere();
        try {
          await assert.rejects(c.call("Echo", { text: "x" }, { deadlineMs: 3000 }), (e: unknown) =>
            CallError.is(e, GrpcStatus.UNAVAILABLE),
          );
        } finally {
          c.close();
        }
      }));

    test("concurrent calls each get their own answer", () =>
      withSetup(async ({ client }) => {
        const rs = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            client.call<unknown, { seq: string }>("Echo", { seq: String(i) }),
          ),
        );
        assert.deepEqual(
          rs.map((r) => r.seq),
          Array.from({ length: 50 }, (_, i) => String(i)),
        );
      }));

    // ---- fault hooks ----

    test("faults: client-side error status with probability 1, then cleared", () =>
      withSetup(async ({ client }) => {
        client.faults.set({ calls: [{ method: "Ech*", error: { code: GrpcStatus.UNAVAILABLE } }] });
        await assert.rejects(client.call("Echo", {}), (e: unknown) =>
          CallError.is(e, GrpcStatus.UNAVAILABLE),
        );
        assert.equal(client.faults.records.at(-1)?.kind, "error");
        client.faults.clear();
        await client.call("Echo", {});
      }));

    test("faults: server-side latency and error, recorded", () =>
      withSetup(async ({ server, client }) => {
        server.faults.set({
          calls: [
            { method: "/xensim.testing.v1.Echo/Echo", latencyMs: 40 },
            { method: "Fail", error: { code: GrpcStatus.ABORTED, details: "injected" } },
          ],
        });
        const t0 = Date.now();
        await client.call("Echo", {});
        assert.ok(Date.now() - t0 >= 35);
        await assert.rejects(client.call("Fail", { code: 5 }), (e: unknown) => {
          assert.ok(CallError.is(e, GrpcStatus.ABORTED));
          assert.equal(e.details, "injected");
          return true;
        });
        assert.deepEqual(
          server.faults.records.map((r) => [r.kind, r.target, r.delayMs ?? r.code]),
          [
            ["latency", "Echo", 40],
            ["error", "Fail", GrpcStatus.ABORTED],
          ],
        );
      }));

    test("faults: latency counts against the deadline", () =>
      withSetup(async ({ client }) => {
        client.faults.set({ calls: [{ method: "*", latencyMs: 80 }] });
        await assert.rejects(client.call("Echo", {}, { deadlineMs: 30 }), (e: unknown) =>
          CallError.is(e, GrpcStatus.DEADLINE_EXCEEDED),
        );
      }));

    test("faults: same seed, same record", async () => {
      const run = async (seed: number): Promise<unknown> => {
        let rec: unknown;
        await withSetup(
          async ({ client }) => {
            client.faults.set({
              calls: [{ method: "*", latencyMs: [0, 2], error: { code: 14, probability: 0.4 } }],
            });
            const outcomes: string[] = [];
            for (let i = 0; i < 30; i++) {
              outcomes.push(
                await client.call("Echo", {}).then(
                  () => "ok",
                  (e: CallError) => String(e.code),
                ),
              );
            }
            rec = { outcomes, records: structuredClone(client.faults.records) };
          },
          { seed },
        );
        return rec;
      };
      const a = await run(42);
      const b = await run(42);
      const c = await run(43);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
    });
  });
}
