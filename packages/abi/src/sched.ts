// sched.h: SCHEDOP_* commands and SHUTDOWN_* reasons (the fact sheet files these under xen.h).

import { layout } from "./layout.js";

export const SCHEDOP_yield = 0;
export const SCHEDOP_block = 1;
export const SCHEDOP_shutdown = 2;
export const SCHEDOP_poll = 3;
export const SCHEDOP_remote_shutdown = 4;
export const SCHEDOP_shutdown_code = 5;
export const SCHEDOP_watchdog = 6;
export const SCHEDOP_pin_override = 7;

/** SHUTDOWN_*: sched_shutdown.reason, and the reason reported for a shut-down domain. */
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;
export const SHUTDOWN_soft_reset = 5;
export const SHUTDOWN_MAX = 5;

export const ShutdownReason = Object.freeze({
  poweroff: SHUTDOWN_poweroff,
  reboot: SHUTDOWN_reboot,
  suspend: SHUTDOWN_suspend,
  crash: SHUTDOWN_crash,
  watchdog: SHUTDOWN_watchdog,
  soft_reset: SHUTDOWN_soft_reset,
} as const);
export type ShutdownReason = (typeof ShutdownReason)[keyof typeof ShutdownReason];

export const SCHED_SHUTDOWN_LAYOUT = layout({ reason: 0, size: 4 });
export const SCHED_REMOTE_SHUTDOWN_LAYOUT = layout({ domain_id: 0, reason: 4, size: 8 });
