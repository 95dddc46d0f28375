// Original file: proto/xensim/display/v1/display.proto


export interface FrameRequest {
  'domid'?: (number);
  'devid'?: (string);
  'connector'?: (number);
}

export interface FrameRequest__Output {
  'domid': (number);
  'devid': (string);
  'connector': (number);
}
