/** What a bench measures in round `round`: in order on even rounds, reversed on odd ones, so no item always goes first. */
export function inTurn<T>(items: readonly T[], round: number): readonly T[] {
  return round % 2 === 0 ? items : [...items].reverse();
}
