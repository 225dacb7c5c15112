import { mersenne, unsafeUniformIntDistribution, type RandomGenerator } from 'pure-rand';

/** A seeded source of randomness: the same seed gives the same load and the same faults at the same times. */
export class Random {
  private readonly generator: RandomGenerator;
  constructor(seed: number) {
    // Mersenne Twister: its seeding spreads small, consecutive seeds well (xoroshiro128+ does not).
    this.generator = mersenne(seed);
  }
  /** An integer in [from, to]. */
  int(from: number, to: number): number {
    return unsafeUniformIntDistribution(from, to, this.generator);
  }
  /** A number in [0, 1). */
  fraction(): number {
    return this.int(0, 2 ** 30 - 1) / 2 ** 30;
  }
  between(from: number, to: number): number {
    return from + (to - from) * this.fraction();
  }
  /** Waiting time of a Poisson process of this rate (per second), in milliseconds: open-loop arrivals. */
  exponentialMs(ratePerSecond: number): number {
    return (-Math.log(1 - this.fraction()) / ratePerSecond) * 1000;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  /** One of the items, each with its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let draw = this.fraction() * total;
    for (const [item, weight] of items) {
      draw -= weight;
      if (draw < 0) return item;
    }
    return items[items.length - 1][0];
  }
}
