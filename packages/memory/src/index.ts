export {
  LinkArea,
  LinkAreaError,
  type LinkAreaOptions,
  MAILBOX_PAYLOAD,
  Q_EVENT,
  Q_FREE,
  Q_RANGE,
  Q_REQUEST,
  Q_SEND,
  Q_ZERO,
  type QueueRecord,
  type RouteHook,
} from "./link-area.js";
export { lockWord, unlockWord } from "./lock.js";
export {
  type CreateDomainOptions,
  type DomainState,
  DomCtl,
  type ForeignWriteCheck,
  MAX_GFN,
  PageStore,
  PageStoreError,
  type PageStoreOptions,
} from "./page-store.js";
export {
  adjacent,
  type Backing,
  ContiguousView,
  MemoryAccessError,
  type MemView,
  makeView,
  NO_WRITE_LOG,
  PagedView,
  type WriteLog,
} from "./view.js";
export { PAGE_SHIFT, PAGE_SIZE } from "./xen-constants.js";
