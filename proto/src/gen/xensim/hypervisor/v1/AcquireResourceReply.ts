// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface AcquireResourceReply {
  'rc'?: (number);
  'frames'?: (number)[];
}

export interface AcquireResourceReply__Output {
  'rc': (number);
  'frames': (number)[];
}
