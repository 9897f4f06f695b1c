/** Deterministic rendering: a nondeterministic render would be a diff on every `pulumi up`. */
import { isRecord } from "./validation";

/** Sorts keys recursively, so the same options always render the same bytes. */
export function sortDeep<T>(value: T): T {
    if (Array.isArray(value)) {
        return value.map(sortDeep) as unknown as T;
    }
    if (isRecord(value)) {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((k) => [k, sortDeep(value[k])]),
        ) as T;
    }
    return value;
}
