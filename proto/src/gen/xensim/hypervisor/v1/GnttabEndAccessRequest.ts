// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabEndAccessRequest {
  'caller'?: (number);
  'ref'?: (number);
}

export interface GnttabEndAccessRequest__Output {
  'caller': (number);
  'ref': (number);
}
