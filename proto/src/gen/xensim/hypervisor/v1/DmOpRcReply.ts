// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface DmOpRcReply {
  'rc'?: (number);
}

export interface DmOpRcReply__Output {
  'rc': (number);
}
