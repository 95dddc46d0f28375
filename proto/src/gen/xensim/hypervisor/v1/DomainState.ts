// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

export const DomainState = {
  DOMAIN_STATE_UNSPECIFIED: 'DOMAIN_STATE_UNSPECIFIED',
  DOMAIN_STATE_RUNNING: 'DOMAIN_STATE_RUNNING',
  DOMAIN_STATE_PAUSED: 'DOMAIN_STATE_PAUSED',
  DOMAIN_STATE_SHUTDOWN: 'DOMAIN_STATE_SHUTDOWN',
  DOMAIN_STATE_DYING: 'DOMAIN_STATE_DYING',
  DOMAIN_STATE_DEAD: 'DOMAIN_STATE_DEAD',
} as const;

export type DomainState =
  | 'DOMAIN_STATE_UNSPECIFIED'
  | 0
  | 'DOMAIN_STATE_RUNNING'
  | 1
  | 'DOMAIN_STATE_PAUSED'
  | 2
  | 'DOMAIN_STATE_SHUTDOWN'
  | 3
  | 'DOMAIN_STATE_DYING'
  | 4
  | 'DOMAIN_STATE_DEAD'
  | 5

export type DomainState__Output = typeof DomainState[keyof typeof DomainState]
