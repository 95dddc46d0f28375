// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnStatusReply {
  'rc'?: (number);
  'status'?: (number);
  'vcpu'?: (number);
  'dom'?: (number);
  'port'?: (number);
  'virq'?: (number);
}

export interface EvtchnStatusReply__Output {
  'rc': (number);
  'status': (number);
  'vcpu': (number);
  'dom': (number);
  'port': (number);
  'virq': (number);
}
