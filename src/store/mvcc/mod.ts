export { KeyIndex } from "./keyindex.ts";
export { type Change, MvccEngine, type MvccState, type RevisionChanges, type TxnOutcome, compareBytes } from "./mvcc.ts";
export { type KeyInterval, intervalHas, intervalsOverlap, prefixEnd, toInterval } from "./selector.ts";
export { WatchHub } from "./watchhub.ts";
