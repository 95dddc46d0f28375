// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface OpenSessionReply {
  'sessionId'?: (string);
  'leaseMs'?: (number);
  'watchSubject'?: (string);
  'serverEpoch'?: (string);
}

export interface OpenSessionReply__Output {
  'sessionId': (string);
  'leaseMs': (number);
  'watchSubject': (string);
  'serverEpoch': (string);
}
