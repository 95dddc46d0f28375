// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface DomainShutdownRequest {
  'caller'?: (number);
  'domid'?: (number);
  'reason'?: (number);
}

export interface DomainShutdownRequest__Output {
  'caller': (number);
  'domid': (number);
  'reason': (number);
}
