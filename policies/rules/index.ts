/** Every rule of the pack, in the order they are reported. */
import { functionLimitsSet, ingressTlsRequired, noForeignDataEndpoints, queueDataLocal } from "./data-rules";
import { hostInAllowedCountry, hostpathUnderSovereignRoot, kubeconfigPrivate, sovereignNodeLabels, sovereignWorkloadsPinned } from "./location-rules";
import { Rule } from "./types";

export * from "./config";
export * from "./data-rules";
export * from "./evaluate";
export * from "./inspect";
export * from "./location-rules";
export * from "./types";

export const RULES: readonly Rule[] = [
    hostInAllowedCountry,
    sovereignNodeLabels,
    hostpathUnderSovereignRoot,
    sovereignWorkloadsPinned,
    noForeignDataEndpoints,
    queueDataLocal,
    ingressTlsRequired,
    kubeconfigPrivate,
    functionLimitsSet,
];
