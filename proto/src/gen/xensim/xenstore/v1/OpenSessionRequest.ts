// Original file: proto/xensim/xenstore/v1/xenstore.proto


export interface OpenSessionRequest {
  'domid'?: (number);
  'leaseMs'?: (number);
  'clientName'?: (string);
}

export interface OpenSessionRequest__Output {
  'domid': (number);
  'leaseMs': (number);
  'clientName': (string);
}
