// Original file: proto/xensim/testing/v1/echo.proto


export interface FailRequest {
  'code'?: (number);
  'message'?: (string);
}

export interface FailRequest__Output {
  'code': (number);
  'message': (string);
}
