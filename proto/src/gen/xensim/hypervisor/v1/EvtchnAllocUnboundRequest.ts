// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnAllocUnboundRequest {
  'caller'?: (number);
  'dom'?: (number);
  'remoteDom'?: (number);
}

export interface EvtchnAllocUnboundRequest__Output {
  'caller': (number);
  'dom': (number);
  'remoteDom': (number);
}
