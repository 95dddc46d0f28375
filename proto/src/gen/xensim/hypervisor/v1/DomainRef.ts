// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface DomainRef {
  'caller'?: (number);
  'domid'?: (number);
}

export interface DomainRef__Output {
  'caller': (number);
  'domid': (number);
}
