// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface CallerRef {
  'caller'?: (number);
}

export interface CallerRef__Output {
  'caller': (number);
}
