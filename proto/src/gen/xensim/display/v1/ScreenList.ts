// Original file: proto/xensim/display/v1/display.proto

import type { Screen as _xensim_display_v1_Screen, Screen__Output as _xensim_display_v1_Screen__Output } from '../../../xensim/display/v1/Screen.js';

export interface ScreenList {
  'screens'?: (_xensim_display_v1_Screen)[];
}

export interface ScreenList__Output {
  'screens': (_xensim_display_v1_Screen__Output)[];
}
