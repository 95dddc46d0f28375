// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface PortRequest {
  'caller'?: (number);
  'port'?: (number);
}

export interface PortRequest__Output {
  'caller': (number);
  'port': (number);
}
