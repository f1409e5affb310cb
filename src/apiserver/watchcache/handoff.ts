/**
 * Write-path hand-off: what the apiserver already knows about a value it is about to store, so the
 * watch cache receiving the store's event for that write need not decode the value to learn it.
 *
 * The REST layer encodes an object, computes its labels and field-selector attributes (the same
 * strategy `fields` the cache would run), and offers them under the store key together with the
 * exact bytes. When the cache applies a put event for that key whose value is byte-identical to
 * the offered bytes, it takes the facts and keeps the object undecoded until someone needs it
 * (JSON encodings, Tables, …; protobuf is derived from the stored bytes). Anything else — another
 * value, an offer that was never consumed, a store that copies or re-encodes values — just falls
 * back to decoding, so an offer can never make the cache wrong, only skip work.
 *
 * Offers are kept per key (the latest wins) in a small bounded table: stores that deliver watch
 * events synchronously from the commit consume them at once; offers of failed writes are
 * withdrawn by the writer; the bound covers writers whose resource has no watch cache.
 */

import { Buffer } from "node:buffer";

/** Identity, labels and field-selector attributes of a stored value, computed by the writer. */
export interface WrittenFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
}

interface Offer {
  readonly value: Uint8Array;
  readonly facts: WrittenFacts;
}

/** Most offers kept at once (oldest dropped first). */
export const MAX_OFFERS = 1024;

/** A table of offers; one per process is used by default (`writtenFacts`). */
export class WrittenFactsTable {
  private readonly offers = new Map<string, Offer>();

  constructor(private readonly max = MAX_OFFERS) {}

  /** Offers `facts` for `value` about to be written under `key` (replacing an older offer). */
  offer(key: string, value: Uint8Array, facts: WrittenFacts): void {
    this.offers.delete(key);
    this.offers.set(key, { value, facts });
    if (this.offers.size > this.max) {
      const oldest = this.offers.keys().next();
      if (!oldest.done) this.offers.delete(oldest.value);
    }
  }

  /** Drops the offer for `key` if it is still the one for `value` (the write failed). */
  withdraw(key: string, value: Uint8Array): void {
    if (this.offers.get(key)?.value === value) this.offers.delete(key);
  }

  /** Takes (removes) the offer for `key` when it was made for exactly these bytes. */
  take(key: string, value: Uint8Array): WrittenFacts | undefined {
    const o = this.offers.get(key);
    if (o === undefined) return undefined;
    this.offers.delete(key);
    return sameBytes(o.value, value) ? o.facts : undefined;
  }

  get size(): number {
    return this.offers.size;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}

/** The process-wide table the REST layer offers to and watch caches take from by default. */
export const writtenFacts = new WrittenFactsTable();
