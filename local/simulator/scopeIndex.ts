// Where the simulator finds the Microsoft.Authorization objects a list at a scope answers without
// looking at every object of the tenant: objects grouped by the scope they live at, and scopes by
// their subscription. A list reads the groups that can answer and keeps the collection's order
// (each object's place is remembered), so the answers are what a scan of every object gave.

const SUBSCRIPTION = /^\/subscriptions\/([^/]+)/;

/** The index key of a scope: lower-cased, the tenant root as "/". */
export function scopeKey(scope: string): string {
  const lower = scope.toLowerCase();
  return lower === "" ? "/" : lower;
}

/** The subscription id (lower case) a lower-cased scope lies in, or null above subscriptions. */
export function subscriptionOfKey(key: string): string | null {
  return SUBSCRIPTION.exec(key)?.[1] ?? null;
}

/** Objects indexed by the scope they live at, each with its place in the collection's order. */
export class ScopeIndex<T> {
  readonly #byScope = new Map<string, Map<T, number>>();
  readonly #scopesBySubscription = new Map<string, Set<string>>();

  constructor(private readonly scopeOf: (item: T) => string) {}

  /** Indexes `item` at its scope, `order` being its place in the collection. */
  add(item: T, order: number): void {
    const key = scopeKey(this.scopeOf(item));
    let items = this.#byScope.get(key);
    if (!items) {
      this.#byScope.set(key, (items = new Map()));
      const sub = subscriptionOfKey(key);
      if (sub !== null) {
        let scopes = this.#scopesBySubscription.get(sub);
        if (!scopes) this.#scopesBySubscription.set(sub, (scopes = new Set()));
        scopes.add(key);
      }
    }
    items.set(item, order);
  }

  /** Forgets `item` (indexed under the scope it had when added). */
  remove(item: T): void {
    const key = scopeKey(this.scopeOf(item));
    const items = this.#byScope.get(key);
    if (!items?.delete(item) || items.size > 0) return;
    this.#byScope.delete(key);
    const sub = subscriptionOfKey(key);
    if (sub === null) return;
    const scopes = this.#scopesBySubscription.get(sub);
    scopes?.delete(key);
    if (scopes?.size === 0) this.#scopesBySubscription.delete(sub);
  }

  /** Forgets everything. */
  clear(): void {
    this.#byScope.clear();
    this.#scopesBySubscription.clear();
  }

  /** The objects at exactly this scope, in the collection's order. */
  atScope(scope: string): T[] {
    return this.gather([scopeKey(scope)]);
  }

  /** Every scope key that holds objects. */
  scopes(): Iterable<string> {
    return this.#byScope.keys();
  }

  /** The scope keys in a subscription (id lower-cased) that hold objects. */
  scopesIn(subscriptionId: string): Iterable<string> {
    return this.#scopesBySubscription.get(subscriptionId) ?? [];
  }

  /** The objects at these scope keys, in the collection's order. */
  gather(keys: Iterable<string>): T[] {
    const found: [T, number][] = [];
    for (const key of new Set(keys)) for (const entry of this.#byScope.get(key) ?? []) found.push(entry);
    return found.sort((a, b) => a[1] - b[1]).map(([item]) => item);
  }
}

/** A Map with a version that changes with every write, so answers computed from all of it know when to recompute. */
export class VersionedMap<V> extends Map<string, V> {
  #version = 0;

  /** Changes with every set, delete and clear. */
  get version(): number {
    return this.#version;
  }

  override set(key: string, value: V): this {
    // Map's constructor calls set for its entries before this class's fields exist: built empty.
    this.#version += 1;
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.#version += 1;
    return super.delete(key);
  }

  override clear(): void {
    this.#version += 1;
    super.clear();
  }
}

/**
 * A Map whose values are also indexed by scope: the simulator's assignments, whoever changes them
 * (ARM's handlers, or a test deleting one behind ARM's back).
 */
export class ScopedMap<V> extends VersionedMap<V> {
  readonly #index: ScopeIndex<V>;
  readonly #order = new Map<string, number>();
  #next = 0;

  constructor(scopeOf: (value: V) => string) {
    super();
    this.#index = new ScopeIndex(scopeOf);
  }

  /** The scope index of the values. */
  get index(): ScopeIndex<V> {
    return this.#index;
  }

  override set(key: string, value: V): this {
    const previous = super.get(key);
    if (previous !== undefined) this.#index.remove(previous);
    // A key keeps its place when its value is replaced, as a Map keeps its insertion order.
    let order = this.#order.get(key);
    if (order === undefined) this.#order.set(key, (order = this.#next++));
    this.#index.add(value, order);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const previous = super.get(key);
    if (previous !== undefined) {
      this.#index.remove(previous);
      this.#order.delete(key);
    }
    return super.delete(key);
  }

  override clear(): void {
    this.#index.clear();
    this.#order.clear();
    super.clear();
  }
}
