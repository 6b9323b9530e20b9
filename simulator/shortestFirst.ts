import fc from 'fast-check';

/**
 * One of a fixed list of strings, drawn uniformly, that shrinks to the shortest one that still
 * fails. `fc.constantFrom` shrinks only to its first value: a counterexample found with
 * `/srv/../var/run/secrets/token` kept it even when `/srv/` shows the same hole. Shrinking tries
 * every shorter string (shortest first), so the first that fails is the shortest that does.
 */
class ShortestFirst extends fc.Arbitrary<string> {
  /** By length; equal lengths keep the list's order (deterministic). */
  private readonly values: readonly string[];

  constructor(values: readonly string[]) {
    super();
    this.values = [...values].sort((a, b) => a.length - b.length);
  }

  generate(mrng: fc.Random): fc.Value<string> {
    const i = mrng.nextInt(0, this.values.length - 1);
    return new fc.Value(this.values[i]!, i);
  }

  canShrinkWithoutContext(value: unknown): value is string {
    return typeof value === 'string' && this.values.includes(value);
  }

  shrink(value: string, context: unknown): fc.Stream<fc.Value<string>> {
    const at = typeof context === 'number' ? context : this.values.indexOf(value);
    // Lazy: fast-check stops at the first shorter string that still fails.
    function* shorter(values: readonly string[]) {
      for (let k = 0; k < at; k++) if (values[k]!.length < value.length) yield new fc.Value(values[k]!, k);
    }
    return fc.stream(shorter(this.values));
  }
}

export function shortestFirst(values: readonly string[]): fc.Arbitrary<string> {
  return new ShortestFirst(values);
}
