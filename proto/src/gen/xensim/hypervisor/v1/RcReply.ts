// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface RcReply {
  'rc'?: (number);
}

export interface RcReply__Output {
  'rc': (number);
}
