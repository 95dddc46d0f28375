// Original file: proto/xensim/guest/v1/guest.proto


export interface BootReply {
  'rc'?: (number);
  'error'?: (string);
}

export interface BootReply__Output {
  'rc': (number);
  'error': (string);
}
