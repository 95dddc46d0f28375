// Original file: proto/xensim/display/v1/display.proto


export interface ListScreensRequest {
}

export interface ListScreensRequest__Output {
}
