// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface FramesReply {
  'rc'?: (number);
  'frames'?: (number)[];
}

export interface FramesReply__Output {
  'rc': (number);
  'frames': (number)[];
}
