// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface VgaTextRequest {
  'domid'?: (number);
}

export interface VgaTextRequest__Output {
  'domid': (number);
}
