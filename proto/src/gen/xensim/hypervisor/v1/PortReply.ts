// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface PortReply {
  'rc'?: (number);
  'port'?: (number);
}

export interface PortReply__Output {
  'rc': (number);
  'port': (number);
}
