// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface DomainExc {
  'domid'?: (number);
  'state'?: (string);
  'reason'?: (number);
}

export interface DomainExc__Output {
  'domid': (number);
  'state': (string);
  'reason': (number);
}
