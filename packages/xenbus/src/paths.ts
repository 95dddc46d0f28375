// Where xenbus devices live in xenstore (xen-protocols §2.4): front
// /local/domain/<F>/device/<type>/<devid>, back /local/domain/<B>/backend/<type>/<F>/<devid>.

/** /local/domain/<domid> */
export function domainHome(domid: number): string {
  return `/local/domain/${domid}`;
}

/** The directory a backend probe watches: /local/domain/<self>/backend/<type>. */
export function backendRoot(self: number, type: string): string {
  return `${domainHome(self)}/backend/${type}`;
}

/** The directory a frontend probe watches: /local/domain/<self>/device/<type>. */
export function frontendRoot(self: number, type: string): string {
  return `${domainHome(self)}/device/${type}`;
}

/** /local/domain/<back>/backend/<type>/<front>/<devid> */
export function backendPath(back: number, type: string, front: number, devid: string | number): string {
  return `${backendRoot(back, type)}/${front}/${devid}`;
}

/** /local/domain/<front>/device/<type>/<devid> */
export function frontendPath(front: number, type: string, devid: string | number): string {
  return `${frontendRoot(front, type)}/${devid}`;
}

/**
 * The node Linux's xenbus_dev_error writes: `error/<nodename>/error` relative to the domain's home,
 * where nodename is the device's own path relative to that home ("device/vbd/51712",
 * "backend/vbd/1/51712"). `nodename` here is absolute, under /local/domain/<self>/.
 */
export function errorNodePath(self: number, nodename: string): string {
  return `${domainHome(self)}/error/${relativeToHome(self, nodename)}/error`;
}

/** "device/vbd/51712" for "/local/domain/<self>/device/vbd/51712"; other paths unchanged. */
export function relativeToHome(self: number, path: string): string {
  const home = `${domainHome(self)}/`;
  return path.startsWith(home) ? path.slice(home.length) : path.replace(/^\//, "");
}
