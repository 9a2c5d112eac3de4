// The demo tenant's only source of chance: a seeded mulberry32 generator, so every run makes the
// same tenant. Every choice the generator makes draws from one stream in a fixed order; drawing
// one number more or less anywhere changes everything after it.

/** A seeded pseudo-random source (mulberry32) with the draws the demo tenant needs. */
export class SeededRandom {
  #state: number;
  readonly #usedGuids = new Set<string>();

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of `xs`, each equally likely. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of the values, each as likely as its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of entries) {
      r -= w;
      if (r < 0) return v;
    }
    return entries[entries.length - 1]![0];
  }

  /** A version-4 GUID not drawn or reserved before. */
  guid(): string {
    for (;;) {
      let hex = "";
      for (let i = 0; i < 32; i++) hex += Math.floor(this.next() * 16).toString(16);
      const variant = "89ab"[Math.floor(this.next() * 4)];
      const g = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
      if (!this.#usedGuids.has(g)) {
        this.#usedGuids.add(g);
        return g;
      }
    }
  }

  /** Marks fixed ids as taken, so guid() never draws one of them. */
  reserve(...ids: string[]): void {
    for (const id of ids) this.#usedGuids.add(id);
  }
}
