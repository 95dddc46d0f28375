// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface ReleaseResourceRequest {
  'caller'?: (number);
  'domid'?: (number);
  'type'?: (number);
  'id'?: (number);
}

export interface ReleaseResourceRequest__Output {
  'caller': (number);
  'domid': (number);
  'type': (number);
  'id': (number);
}
