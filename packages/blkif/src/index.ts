export type { BlockIo, BlockIoStatus, BlockStore, BlockStoreInfo } from "./block-store.js";
export { BLOCK_SECTOR_BYTES, submitIo } from "./block-store.js";
