// Original file: proto/xensim/devicemodel/v1/devicemodel.proto


export interface VgaTextReply {
  'rc'?: (number);
  'error'?: (string);
  'cols'?: (number);
  'rows'?: (number);
  'cells'?: (Buffer | Uint8Array | string);
  'cursorRow'?: (number);
  'cursorCol'?: (number);
  'cursorVisible'?: (boolean);
  'cursorStart'?: (number);
  'cursorEnd'?: (number);
}

export interface VgaTextReply__Output {
  'rc': (number);
  'error': (string);
  'cols': (number);
  'rows': (number);
  'cells': (Buffer);
  'cursorRow': (number);
  'cursorCol': (number);
  'cursorVisible': (boolean);
  'cursorStart': (number);
  'cursorEnd': (number);
}
