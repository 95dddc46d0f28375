// hvm/params.h: HVM_PARAM_* indices (HVMOP_set_param / get_param) used by this project.

export const HVM_PARAM_CALLBACK_IRQ = 0;
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
/** Tools-only (under __XEN_TOOLS__). */
export const HVM_PARAM_PAE_ENABLED = 4;
/** Legacy default ioreq server pages; the default server was removed in Xen 4.12. */
export const HVM_PARAM_IOREQ_PFN = 5;
export const HVM_PARAM_BUFIOREQ_PFN = 6;
export const HVM_PARAM_VIRIDIAN = 9;
export const HVM_PARAM_TIMER_MODE = 10;
export const HVM_PARAM_HPET_ENABLED = 11;
export const HVM_PARAM_IDENT_PT = 12;
/** Tools-only. */
export const HVM_PARAM_DM_DOMAIN = 13;
export const HVM_PARAM_ACPI_S_STATE = 14;
export const HVM_PARAM_VM86_TSS = 15;
export const HVM_PARAM_VPT_ALIGN = 16;
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;
export const HVM_PARAM_ACPI_IOPORTS_LOCATION = 19;
/** Tools-only; legacy default ioreq server. */
export const HVM_PARAM_BUFIOREQ_EVTCHN = 26;
export const HVM_PARAM_PAGING_RING_PFN = 27;
export const HVM_PARAM_MONITOR_RING_PFN = 28;
export const HVM_PARAM_SHARING_RING_PFN = 29;
export const HVM_PARAM_TRIPLE_FAULT_REASON = 31;
export const HVM_PARAM_IOREQ_SERVER_PFN = 32;
export const HVM_PARAM_NR_IOREQ_SERVER_PAGES = 33;
export const HVM_PARAM_VM_GENERATION_ID_ADDR = 34;
export const HVM_PARAM_ALTP2M = 35;
export const HVM_PARAM_X87_FIP_WIDTH = 36;
export const HVM_PARAM_VM86_TSS_SIZED = 37;
export const HVM_PARAM_MCA_CAP = 38;
export const HVM_NR_PARAMS = 39;

/** HVM_PARAM_CALLBACK_IRQ: delivery type in the top byte of the value. */
export const HVM_PARAM_CALLBACK_IRQ_TYPE_MASK = 0xff00000000000000n;
export const HVM_PARAM_CALLBACK_TYPE_GSI = 0;
export const HVM_PARAM_CALLBACK_TYPE_PCI_INTX = 1;
export const HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;
