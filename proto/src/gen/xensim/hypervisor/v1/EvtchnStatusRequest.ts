// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnStatusRequest {
  'caller'?: (number);
  'dom'?: (number);
  'port'?: (number);
}

export interface EvtchnStatusRequest__Output {
  'caller': (number);
  'dom': (number);
  'port': (number);
}
