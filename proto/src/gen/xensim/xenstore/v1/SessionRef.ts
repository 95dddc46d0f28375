// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface SessionRef {
  'sessionId'?: (string);
}

export interface SessionRef__Output {
  'sessionId': (string);
}
