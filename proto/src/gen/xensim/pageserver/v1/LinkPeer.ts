// Original file: proto/xensim/pageserver/v1/pageserver.proto


export interface LinkPeer {
  'host'?: (string);
  'ready'?: (boolean);
  'epoch'?: (string);
  'unacked'?: (number);
  'applied'?: (number);
  'buffered'?: (number);
}

export interface LinkPeer__Output {
  'host': (string);
  'ready': (boolean);
  'epoch': (string);
  'unacked': (number);
  'applied': (number);
  'buffered': (number);
}
