/**
 * Shuffle sharding (pure): a flow's hash deals it a hand of `handSize` distinct queues out of a
 * deck of `deckSize`, so two flows rarely share all their queues and one heavy flow cannot fill
 * the queues every other flow depends on.
 */

/** FNV-1a over UTF-16 code units with a seed; 32-bit result. */
function fnv1a(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche so that similar keys spread over the high bits too
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 52-bit hash of a flow key (exact in a double). */
export function flowHash(key: string): number {
  return (fnv1a(key, 0) & 0xfffff) * 0x100000000 + fnv1a(key, 0x9e3779b9);
}

/** How many bits of entropy dealing a hand uses: product of deckSize..deckSize-handSize+1. */
function entropyBits(deckSize: number, handSize: number): number {
  let bits = 0;
  for (let i = 0; i < handSize; i++) bits += Math.log2(deckSize - i);
  return bits;
}

/**
 * Deals a hand: `handSize` distinct queue indexes in [0, deckSize), chosen by successive
 * mixed-radix digits of `hash`. Throws `RangeError` for a hand larger than the deck, a
 * non-positive size, or a deck/hand needing more than 52 bits of hash (upstream's limit is 60).
 */
export function dealHand(hash: number, deckSize: number, handSize: number): number[] {
  if (!Number.isInteger(deckSize) || !Number.isInteger(handSize) || deckSize < 1 || handSize < 1 || handSize > deckSize) {
    throw new RangeError(`cannot deal a hand of ${handSize} from a deck of ${deckSize}`);
  }
  if (entropyBits(deckSize, handSize) > 52) throw new RangeError(`a hand of ${handSize} from ${deckSize} needs more than 52 bits of hash`);
  const hand: number[] = [];
  let rest = hash;
  for (let i = 0; i < handSize; i++) {
    const radix = deckSize - i;
    let pick = rest % radix;
    rest = Math.floor(rest / radix);
    // `pick` indexes the cards not dealt yet: skip over the ones already in the hand (ascending).
    const sorted = [...hand].sort((a, b) => a - b);
    for (const taken of sorted) if (taken <= pick) pick++;
    hand.push(pick);
  }
  return hand;
}
