// The xenstore nodes of a device model: libxl's (`libxl__device_model_xs_path`: the state libxl waits
// for, QEMU's physmap records) and xensim's own records of which service instance runs which emulator.

export const DM_XS = Object.freeze({
  /** Every device model of emulator domain `dmDomid`. */
  all: (dmDomid = 0) => `/local/domain/${dmDomid}/device-model`,
  root: (domid: number, dmDomid = 0) => `/local/domain/${dmDomid}/device-model/${domid}`,
  /** "running" once the emulator serves (what libxl waits for after spawning QEMU). */
  state: (domid: number, dmDomid = 0) => `/local/domain/${dmDomid}/device-model/${domid}/state`,
  /** QEMU's physmap records: `<phys_offset>/{start_addr,size,name}` (hex). */
  physmap: (domid: number, dmDomid = 0) => `/local/domain/${dmDomid}/device-model/${domid}/physmap`,
  /** xensim: `{service, name, vcpus, ioreq-server, ports}` of the `role` emulator. */
  record: (domid: number, role: string, dmDomid = 0) =>
    `/local/domain/${dmDomid}/device-model/${domid}/xensim/${role}`,
});

/** Where the toolstack keeps a saved device-model state (libxl's XEN_LIB_DIR/qemu-save.<domid>). */
export function qemuSavePath(libDir: string, domid: number, role: string): string {
  return `${libDir}/qemu-save.${domid}${role === "primary" ? "" : `.${role}`}`;
}
