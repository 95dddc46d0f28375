// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabEndAccessReply {
  'rc'?: (number);
  'ok'?: (boolean);
}

export interface GnttabEndAccessReply__Output {
  'rc': (number);
  'ok': (boolean);
}
