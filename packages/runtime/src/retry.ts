// The services' start-up retry: a dependency that is not there yet (xenstored, the hypervisor, the
// page store of a host whose workers start together) is asked again, up to 50 times, 20 ms apart
// growing to 220 ms, until the service is stopped (ctx.signal). Logged from the second attempt on.
import type { ServiceContext } from "./service.js";

export const START_RETRY_ATTEMPTS = 50;

export async function retry<T>(
  what: string,
  fn: () => Promise<T>,
  ctx: Pick<ServiceContext, "signal" | "log">,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (ctx.signal.aborted || i >= START_RETRY_ATTEMPTS) throw e;
      if (i > 0) ctx.log.warn({ err: e, attempt: i }, `${what}: retrying`);
      await new Promise((r) => setTimeout(r, 20 + Math.min(i, 10) * 20));
    }
  }
}
