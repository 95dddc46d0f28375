// Where each service's entry point is. Commands start services by path (in worker threads or
// processes); nothing imports a service.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const SERVICE_PACKAGES = {
  xenstored: "@xensim/svc-xenstored",
  hypervisor: "@xensim/svc-hypervisor",
  "page-server": "@xensim/svc-page-server",
  blkback: "@xensim/svc-blkback",
  displback: "@xensim/svc-displback",
  guest: "@xensim/svc-guest",
  toolstack: "@xensim/svc-toolstack",
  // The device model: the guests' emulators (primary), and a second instance for the emulators
  // xl.cfg's device_model_args = ["-device", "pci-serial"] adds (secondary).
  "device-model": "@xensim/svc-device-model",
  "device-model-2": "@xensim/svc-device-model",
} as const;
export type ServiceName = keyof typeof SERVICE_PACKAGES;

export function serviceEntry(name: ServiceName): string {
  return require.resolve(`${SERVICE_PACKAGES[name]}/main`);
}

export function isServiceName(s: string): s is ServiceName {
  return Object.hasOwn(SERVICE_PACKAGES, s);
}
