// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnConsumePendingRequest {
  'caller'?: (number);
  'domid'?: (number);
  'vcpu'?: (number);
}

export interface EvtchnConsumePendingRequest__Output {
  'caller': (number);
  'domid': (number);
  'vcpu': (number);
}
