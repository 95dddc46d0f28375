// Original file: proto/xensim/hypervisor/v1/dmop.proto


export interface IoreqServerListRequest {
  'caller'?: (number);
  'domid'?: (number);
}

export interface IoreqServerListRequest__Output {
  'caller': (number);
  'domid': (number);
}
