// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabSetupTableRequest {
  'caller'?: (number);
  'dom'?: (number);
  'nrFrames'?: (number);
}

export interface GnttabSetupTableRequest__Output {
  'caller': (number);
  'dom': (number);
  'nrFrames': (number);
}
