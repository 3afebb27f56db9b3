import { InvalidArgumentError, Option } from 'commander';

/** A commander parser for an integer option within [min, max]. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** `--redis <url>`, or PICFLOW_REDIS_URL: the Redis of the scale-out queue. */
export function redisOption(description: string): Option {
  return new Option('--redis <url>', description).env('PICFLOW_REDIS_URL');
}
