/** Kubernetes resource quantities, as far as this library needs to add them up. */

const BINARY: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * A memory quantity in MiB (`128Mi`, `1Gi`, `500M`, `134217728`), or undefined when it is not
 * one. Kubernetes' suffixes (k8s.io/apimachinery resource.Quantity): binary Ki/Mi/Gi/Ti,
 * decimal k/M/G/T, or plain bytes.
 */
export function memoryMiB(quantity: unknown): number | undefined {
    const text = typeof quantity === "number" ? String(quantity) : quantity;
    if (typeof text !== "string") {
        return undefined;
    }
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text.trim());
    if (m === null) {
        return undefined;
    }
    const n = Number(m[1]);
    const unit = m[2];
    if (unit === undefined) {
        return n / (1024 * 1024);
    }
    return unit in BINARY ? n * BINARY[unit] : (n * DECIMAL[unit]) / (1024 * 1024);
}
