// Original file: proto/xensim/guest/v1/guest.proto


export interface BootRequest {
  'domid'?: (number);
  'name'?: (string);
}

export interface BootRequest__Output {
  'domid': (number);
  'name': (string);
}
