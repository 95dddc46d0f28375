export { type BuildGuestOptions, type BuiltGuest, buildGuest } from "./build.js";
export {
  GuestConfigError,
  type GuestWorkload,
  parseBlkfrontSettings,
  parseDurationMs,
  parseSize,
  parseWorkload,
} from "./job.js";
export { resetFrontendStates } from "./reset.js";
export { GuestKernel, type GuestKernelOptions, RamAllocator } from "./kernel.js";
export { Cpu, type GuestRam, PCI_CONFIG_ADDRESS, PCI_CONFIG_DATA, type VcpuIo } from "./cpu.js";
export {
  Bios,
  type BiosReport,
  CMOS_BOOT_COUNT,
  CMOS_SIGNATURE,
  COM1,
  FB_HEIGHT,
  FB_WIDTH,
  type FirmwareOptions,
  type FirmwareSettings,
  parseFirmwareSettings,
  type PciDeviceFound,
  pixelAt,
  SIGNATURE,
  UART_SCRATCH_VALUE,
  VGA_INTERRUPT_LINE,
} from "./firmware.js";
export { GuestBufferArea } from "./buffers.js";
