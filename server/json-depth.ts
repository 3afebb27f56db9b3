// The JSON depth limit for request bodies: a body nested past it is refused (400 naming the path)
// before any handler walks it recursively.
import type { RequestHandler } from 'express';
import { jsonDepthPast } from '../engine/limits';
import { HttpError } from './http-error';

/** Refuses a JSON body nested deeper than `maxDepth`, before any handler (or recursive serializer) walks it. */
export function shallowJson(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    const deep = jsonDepthPast(req.body, maxDepth);
    if (deep) {
      const at = ['body', ...deep.path.slice(0, 8)].join('.');
      throw new HttpError(400, `the JSON body is nested deeper than the limit of ${maxDepth} levels (at ${at}${deep.path.length > 8 ? '…' : ''})`);
    }
    next();
  };
}
