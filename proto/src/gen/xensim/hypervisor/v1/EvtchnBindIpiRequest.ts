// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnBindIpiRequest {
  'caller'?: (number);
  'vcpu'?: (number);
}

export interface EvtchnBindIpiRequest__Output {
  'caller': (number);
  'vcpu': (number);
}
