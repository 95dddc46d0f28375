// Original file: proto/xensim/display/v1/display.proto

import type { Screen as _xensim_display_v1_Screen, Screen__Output as _xensim_display_v1_Screen__Output } from '../../../xensim/display/v1/Screen.js';

export interface Frame {
  'rc'?: (number);
  'screen'?: (_xensim_display_v1_Screen | null);
  'rgba'?: (Buffer | Uint8Array | string);
}

export interface Frame__Output {
  'rc': (number);
  'screen': (_xensim_display_v1_Screen__Output | null);
  'rgba': (Buffer);
}
