// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface EvtchnBindInterdomainRequest {
  'caller'?: (number);
  'remoteDom'?: (number);
  'remotePort'?: (number);
}

export interface EvtchnBindInterdomainRequest__Output {
  'caller': (number);
  'remoteDom': (number);
  'remotePort': (number);
}
