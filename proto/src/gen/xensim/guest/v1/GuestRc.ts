// Original file: proto/xensim/guest/v1/guest.proto


export interface GuestRc {
  'rc'?: (number);
}

export interface GuestRc__Output {
  'rc': (number);
}
