/**
 * The part of the `reflect-metadata` API that tsyringe (a dependency of @peculiar/x509) checks for
 * at load time and uses for its injection tokens: `defineMetadata`, `getOwnMetadata`,
 * `getMetadata`. The package itself is not installed; imported before @peculiar/x509, this is.
 */
type MetadataReflect = typeof Reflect & {
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  getMetadata?: (key: unknown, target: object) => unknown;
};

const reflect = Reflect as MetadataReflect;
if (reflect.getMetadata === undefined) {
  const store = new WeakMap<object, Map<unknown, unknown>>();
  reflect.defineMetadata = (key, value, target) => {
    let own = store.get(target);
    if (own === undefined) {
      own = new Map();
      store.set(target, own);
    }
    own.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let at: object | null = target; at !== null; at = Object.getPrototypeOf(at)) {
      const own = store.get(at);
      if (own?.has(key)) return own.get(key);
    }
    return undefined;
  };
}
