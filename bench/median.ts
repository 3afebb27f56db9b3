/** The middle value of a sample (the upper one of an even count); the benches report medians, not means. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
