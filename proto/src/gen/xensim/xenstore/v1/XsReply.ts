// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface XsReply {
  'type'?: (number);
  'reqId'?: (number);
  'txId'?: (number);
  'payload'?: (Buffer | Uint8Array | string);
}

export interface XsReply__Output {
  'type': (number);
  'reqId': (number);
  'txId': (number);
  'payload': (Buffer);
}
