// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface DomainCreateReply {
  'rc'?: (number);
  'domid'?: (number);
}

export interface DomainCreateReply__Output {
  'rc': (number);
  'domid': (number);
}
