// io/xenbus.h: enum xenbus_state, written to xenstore `state` nodes as a decimal string.

export const XenbusState = Object.freeze({
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
  Reconfigured: 8,
} as const);
export type XenbusState = (typeof XenbusState)[keyof typeof XenbusState];

const stateNames = new Map<number, string>(Object.entries(XenbusState).map(([k, v]) => [v as number, k]));
/** "InitWait" for 2, undefined for a number outside the enum. */
export function xenbusStateName(state: number): string | undefined {
  return stateNames.get(state);
}

/** Parse a `state` node value; undefined unless it is a decimal XenbusState. */
export function parseXenbusState(text: string): XenbusState | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return stateNames.has(n) ? (n as XenbusState) : undefined;
}
