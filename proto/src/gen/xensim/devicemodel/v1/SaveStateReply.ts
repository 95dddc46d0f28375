// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface SaveStateReply {
  'rc'?: (number);
  'error'?: (string);
  'state'?: (Buffer | Uint8Array | string);
}

export interface SaveStateReply__Output {
  'rc': (number);
  'error': (string);
  'state': (Buffer);
}
