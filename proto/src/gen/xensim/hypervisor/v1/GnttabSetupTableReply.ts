// Original file: proto/xensim/hypervisor/v1/hypervisor.proto


export interface GnttabSetupTableReply {
  'status'?: (number);
  'frames'?: (number)[];
}

export interface GnttabSetupTableReply__Output {
  'status': (number);
  'frames': (number)[];
}
