/**
 * The hello-ok response frame. Its `features` (every method and event name)
 * is most of the frame and the same for every connection of a channel, so it
 * is serialised once and spliced in: a burst of handshakes then makes a
 * fraction of the garbage.
 */

import { serialiseOkResponse } from '../../protocol/frames.js';

const featuresJson = new WeakMap<object, string>();

export function serialiseHelloOk(id: string, hello: Record<string, unknown>): string {
  const { features, ...rest } = hello;
  if (typeof features !== 'object' || features === null || Object.keys(rest).length === 0) return serialiseOkResponse(id, hello);
  let json = featuresJson.get(features);
  if (json === undefined) {
    json = JSON.stringify(features);
    featuresJson.set(features, json);
  }
  const head = JSON.stringify(rest);
  return `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${head.slice(0, -1)},"features":${json}}}`;
}
