// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface DmOpReply {
  'rc'?: (number);
  'buf'?: (Buffer | Uint8Array | string);
}

export interface DmOpReply__Output {
  'rc': (number);
  'buf': (Buffer);
}
