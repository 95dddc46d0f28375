// OpenTelemetry spans of the control plane: every call a service serves or makes (gRPC and in
// process, W3C trace context in the call metadata), the toolstack's HTTP requests and flow steps,
// xenstored's transactions. Exported over OTLP/HTTP when an endpoint is configured
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, or `xensim up --otlp-endpoint`);
// otherwise nothing is registered, the wrappers are not installed, and every helper here runs its
// function straight away.
import {
  type Attributes,
  context,
  type Context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { CallClient, CallContext, CallServer, UnaryHandler } from "@xensim/bus";
import { resolveMethod } from "@xensim/bus";
import type * as grpc from "@grpc/grpc-js";

const TRACER = "xensim";

let provider: BasicTracerProvider | undefined;

/** The OTLP/HTTP traces URL from the standard environment, or undefined (no export). */
export function otlpTracesUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return `${base.replace(/\/+$/, "")}/v1/traces`;
  return undefined;
}

/** Are spans being recorded in this thread? */
export function otelEnabled(): boolean {
  return provider !== undefined;
}

/**
 * Registers this thread's tracer provider exporting to `url` (idempotent per thread). Returns the
 * shutdown (flushes what is buffered), or undefined when no URL is configured.
 */
export function startOtel(options: {
  service: string;
  host: string;
  url?: string | undefined;
}): { shutdown(): Promise<void> } | undefined {
  const url = options.url ?? otlpTracesUrl();
  if (!url) return undefined;
  if (!provider) {
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": options.service,
        "service.namespace": "xensim",
        "host.name": options.host,
      }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
          scheduledDelayMillis: 500,
          maxQueueSize: 4096,
        }),
      ],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
  }
  const p = provider;
  return {
    shutdown: async () => {
      await p.forceFlush().catch(() => {});
      await p.shutdown().catch(() => {});
      if (provider === p) provider = undefined;
    },
  };
}

/** Flushes buffered spans now (tests; before a process exits). */
export async function flushOtel(): Promise<void> {
  await provider?.forceFlush();
}

function endWith(span: Span, err: unknown): void {
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

/**
 * Runs `fn` in a span (a child of the current span, or of the context `parent`); the span ends when
 * `fn` settles, with an error status if it threw. Without OpenTelemetry: just `fn()`.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  opts: { kind?: SpanKind; parent?: Context } = {},
): Promise<T> {
  if (!provider) return fn();
  const tracer = trace.getTracer(TRACER);
  return tracer.startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes },
    opts.parent ?? context.active(),
    async (span) => {
      try {
        const r = await fn();
        endWith(span, undefined);
        return r;
      } catch (e) {
        endWith(span, e);
        throw e;
      }
    },
  );
}

/** A server span whose parent comes from a carrier of W3C trace context (HTTP headers, call metadata). */
export function inServerSpan<T>(
  name: string,
  carrier: Record<string, unknown>,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  if (!provider) return fn();
  const parent = propagation.extract(context.active(), carrier);
  return inSpan(name, attributes, fn, { kind: SpanKind.SERVER, parent });
}

/** A span started now and ended by the caller (xenstore transactions span several requests). */
export function startSpan(name: string, attributes: Attributes): Span | undefined {
  if (!provider) return undefined;
  return trace.getTracer(TRACER).startSpan(name, { attributes }, context.active());
}

export { SpanStatusCode, type Span };

function rpcAttributes(path: string): Attributes {
  const m = /^\/?([^/]+)\/([^/]+)$/.exec(path);
  return { "rpc.system": "grpc", "rpc.service": m?.[1] ?? path, "rpc.method": m?.[2] ?? path };
}

/** A call client whose calls are client spans carrying their context in the call metadata. */
export function tracedCallClient(
  client: CallClient,
  def: grpc.ServiceDefinition,
  target: string,
): CallClient {
  return {
    get faults() {
      return client.faults;
    },
    close: () => client.close(),
    call<Req, Res>(method: string, req: Req, opts: Parameters<CallClient["call"]>[2] = {}): Promise<Res> {
      if (!provider) return client.call<Req, Res>(method, req, opts);
      const path = resolveMethod(def, method)?.def.path ?? method;
      return inSpan(
        path.replace(/^\//, ""),
        { ...rpcAttributes(path), "xensim.call.target": target },
        () => {
          const metadata: Record<string, string> = { ...opts.metadata };
          propagation.inject(context.active(), metadata);
          return client.call<Req, Res>(method, req, { ...opts, metadata });
        },
        { kind: SpanKind.CLIENT },
      );
    },
  };
}

/** A call server whose handlers run in server spans, children of the caller's span. */
export function tracedCallServer(server: CallServer): CallServer {
  return {
    get faults() {
      return server.faults;
    },
    listen: () => server.listen(),
    close: () => server.close(),
    addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void {
      const wrapped: Record<string, UnaryHandler> = {};
      for (const [key, h] of Object.entries(impl)) {
        wrapped[key] = (req: unknown, ctx: CallContext) =>
          provider
            ? inServerSpan(ctx.method.replace(/^\//, ""), ctx.metadata, rpcAttributes(ctx.method), () =>
                h(req, ctx),
              )
            : h(req, ctx);
      }
      server.addService(def, wrapped);
    },
  };
}
