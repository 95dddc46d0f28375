// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface XsRequest {
  'sessionId'?: (string);
  'type'?: (number);
  'reqId'?: (number);
  'txId'?: (number);
  'payload'?: (Buffer | Uint8Array | string);
}

export interface XsRequest__Output {
  'sessionId': (string);
  'type': (number);
  'reqId': (number);
  'txId': (number);
  'payload': (Buffer);
}
