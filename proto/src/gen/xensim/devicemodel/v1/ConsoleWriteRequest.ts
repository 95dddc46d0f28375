// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface ConsoleWriteRequest {
  'domid'?: (number);
  'serial'?: (number);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ConsoleWriteRequest__Output {
  'domid': (number);
  'serial': (number);
  'data': (Buffer);
}
