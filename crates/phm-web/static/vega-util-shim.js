// vega-interpreter imports these from `vega-util`; the `vega` bundle (loaded first, as a
// classic script) already carries them on `window.vega`.
const v = window.vega;
export const ascending = v.ascending;
export const isString = v.isString;
export const DisallowedObjectProperties = v.DisallowedObjectProperties;
