// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnBindVcpuRequest {
  'caller'?: (number);
  'port'?: (number);
  'vcpu'?: (number);
}

export interface EvtchnBindVcpuRequest__Output {
  'caller': (number);
  'port': (number);
  'vcpu': (number);
}
