// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnBindVirqRequest {
  'caller'?: (number);
  'virq'?: (number);
  'vcpu'?: (number);
}

export interface EvtchnBindVirqRequest__Output {
  'caller': (number);
  'virq': (number);
  'vcpu': (number);
}
