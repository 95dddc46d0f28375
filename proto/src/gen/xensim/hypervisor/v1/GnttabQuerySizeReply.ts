// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabQuerySizeReply {
  'status'?: (number);
  'nrFrames'?: (number);
  'maxNrFrames'?: (number);
}

export interface GnttabQuerySizeReply__Output {
  'status': (number);
  'nrFrames': (number);
  'maxNrFrames': (number);
}
