import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DisplayClient as _xensim_display_v1_DisplayClient, DisplayDefinition as _xensim_display_v1_DisplayDefinition } from './xensim/display/v1/Display.js';
import type { Frame as _xensim_display_v1_Frame, Frame__Output as _xensim_display_v1_Frame__Output } from './xensim/display/v1/Frame.js';
import type { FrameRequest as _xensim_display_v1_FrameRequest, FrameRequest__Output as _xensim_display_v1_FrameRequest__Output } from './xensim/display/v1/FrameRequest.js';
import type { ListScreensRequest as _xensim_display_v1_ListScreensRequest, ListScreensRequest__Output as _xensim_display_v1_ListScreensRequest__Output } from './xensim/display/v1/ListScreensRequest.js';
import type { Screen as _xensim_display_v1_Screen, Screen__Output as _xensim_display_v1_Screen__Output } from './xensim/display/v1/Screen.js';
import type { ScreenList as _xensim_display_v1_ScreenList, ScreenList__Output as _xensim_display_v1_ScreenList__Output } from './xensim/display/v1/ScreenList.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  xensim: {
    display: {
      v1: {
        Display: SubtypeConstructor<typeof grpc.Client, _xensim_display_v1_DisplayClient> & { service: _xensim_display_v1_DisplayDefinition }
        Frame: MessageTypeDefinition<_xensim_display_v1_Frame, _xensim_display_v1_Frame__Output>
        FrameRequest: MessageTypeDefinition<_xensim_display_v1_FrameRequest, _xensim_display_v1_FrameRequest__Output>
        ListScreensRequest: MessageTypeDefinition<_xensim_display_v1_ListScreensRequest, _xensim_display_v1_ListScreensRequest__Output>
        Screen: MessageTypeDefinition<_xensim_display_v1_Screen, _xensim_display_v1_Screen__Output>
        ScreenList: MessageTypeDefinition<_xensim_display_v1_ScreenList, _xensim_display_v1_ScreenList__Output>
      }
    }
  }
}

