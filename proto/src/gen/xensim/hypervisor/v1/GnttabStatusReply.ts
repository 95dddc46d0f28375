// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabStatusReply {
  'status'?: (number)[];
}

export interface GnttabStatusReply__Output {
  'status': (number)[];
}
