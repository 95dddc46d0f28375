export { type BuildGuestOptions, type BuiltGuest, buildGuest, STORE_GFN } from "./build.js";
export { GuestKernel, type GuestKernelOptions, RamAllocator } from "./kernel.js";
