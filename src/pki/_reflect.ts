/**
 * A minimal `Reflect` metadata polyfill, installed only when absent. @peculiar/x509 pulls in
 * tsyringe, which refuses to load unless `Reflect.getMetadata` exists; the `reflect-metadata`
 * package is not among our dependencies, and tsyringe only needs these four functions
 * (define/get/getOwn metadata and the `metadata` decorator factory), keyed per target and property.
 */
type Key = string | symbol;
type Store = Map<Key | undefined, Map<unknown, unknown>>;

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: object, prop?: Key): void;
  getOwnMetadata(key: unknown, target: object, prop?: Key): unknown;
  getMetadata(key: unknown, target: object, prop?: Key): unknown;
  metadata(key: unknown, value: unknown): (target: object, prop?: Key) => void;
}

// Reflect is a namespace object; widening it to add functions needs a cast through unknown.
const reflect = Reflect as unknown as Partial<ReflectMetadata>;

if (typeof reflect.getMetadata !== "function") {
  const stores = new WeakMap<object, Store>();
  const own = (key: unknown, target: object, prop?: Key): { found: boolean; value: unknown } => {
    const m = stores.get(target)?.get(prop);
    return m && m.has(key) ? { found: true, value: m.get(key) } : { found: false, value: undefined };
  };
  const define = (key: unknown, value: unknown, target: object, prop?: Key): void => {
    let store = stores.get(target);
    if (!store) stores.set(target, (store = new Map()));
    let m = store.get(prop);
    if (!m) store.set(prop, (m = new Map()));
    m.set(key, value);
  };
  reflect.defineMetadata = define;
  reflect.getOwnMetadata = (key, target, prop) => own(key, target, prop).value;
  reflect.getMetadata = (key, target, prop) => {
    // Walk the prototype chain, bounded in case of an odd cyclic proxy.
    let t: object | null = target;
    for (let i = 0; t !== null && i < 1000; i++) {
      const r = own(key, t, prop);
      if (r.found) return r.value;
      t = Object.getPrototypeOf(t) as object | null;
    }
    return undefined;
  };
  reflect.metadata = (key, value) => (target, prop) => define(key, value, target, prop);
}

export {};
