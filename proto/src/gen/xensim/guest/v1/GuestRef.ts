// Original file: proto/xensim/guest/v1/guest.proto


export interface GuestRef {
  'domid'?: (number);
}

export interface GuestRef__Output {
  'domid': (number);
}
