// @xensim/displfront: the para-virtual display frontend driver core (as Linux drm/xen-front).
export {
  type DisplayBuffer,
  Displfront,
  DisplfrontError,
  type DisplfrontNotice,
  type DisplfrontOptions,
  type DisplfrontStats,
  type DistributiveOmit,
  type Framebuffer,
} from "./displfront.js";
export {
  type DisplfrontEvents,
  type DisplfrontHypervisor,
  type DisplfrontTimer,
  type GuestMemory,
  type GuestPages,
} from "./environment.js";
export { Compositor, type CompositorOptions, drawTestPattern, testPatternPixel } from "./compositor.js";
