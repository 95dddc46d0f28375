// @xensim/runtime: what every service runs on — config, logging, health and metrics, the service
// contract, runServiceMain for a service's main.ts, and startHost for a host process of worker threads.

export { collectBusMetrics, type ServiceMetrics, serveBusMetrics } from "./bus-metrics.js";
export { monotonicNs, serveBusTrace } from "./bus-trace.js";
export {
  flushOtel,
  inServerSpan,
  inSpan,
  otelEnabled,
  otlpTracesUrl,
  type Span,
  SpanStatusCode,
  startOtel,
  startSpan,
  tracedCallClient,
  tracedCallServer,
} from "./otel.js";
export { type BootExtras, type BootedService, bootService } from "./boot.js";
export {
  ConfigError,
  type ConfigSources,
  type DeepReadonly,
  deepFreeze,
  parseArgvFlags,
  parseConfig,
} from "./config.js";
export {
  type HostedService,
  type HostedState,
  type HostFailure,
  type HostHandle,
  type HostOptions,
  type HostServiceSpec,
  runHostMain,
  startHost,
} from "./host.js";
export { buildHttpApp, type HealthReport, type HttpAppOptions } from "./http.js";
export { createLogger, deviceLogger, type Logger, type LoggerBindings } from "./log.js";
export { placementFromWorkerData, runServiceMain, StandaloneOptions } from "./main.js";
export { retry, START_RETRY_ATTEMPTS } from "./retry.js";
export type {
  HostToWorker,
  Placement,
  RunningService,
  ServiceCalls,
  ServiceContext,
  ServiceModule,
  WorkerToHost,
} from "./service.js";
