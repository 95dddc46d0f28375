// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface DmOpRequest {
  'caller'?: (number);
  'domid'?: (number);
  'buf'?: (Buffer | Uint8Array | string);
}

export interface DmOpRequest__Output {
  'caller': (number);
  'domid': (number);
  'buf': (Buffer);
}
