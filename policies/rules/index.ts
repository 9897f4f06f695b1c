/** Every rule of the pack, in the order they are reported. */
import { backupTargetLocal } from "./backup-rules";
import { functionLimitsSet, ingressTlsRequired, noForeignDataEndpoints, queueDataLocal } from "./data-rules";
import { k3sStateLocal } from "./k3s-rules";
import { hostInAllowedCountry, hostpathUnderSovereignRoot, kubeconfigPrivate, noPinningAbroad, sovereignNodeLabels, sovereignWorkloadsPinned } from "./location-rules";
import { addressesRegisteredHere, egressDefaultDeny } from "./network-rules";
import { Rule } from "./types";

export * from "./backup-rules";
export * from "./config";
export * from "./data-rules";
export * from "./endpoints";
export * from "./evaluate";
export * from "./inspect";
export * from "./k3s-rules";
export * from "./location-rules";
export * from "./network-rules";
export * from "./registry";
export * from "./types";

export const RULES: readonly Rule[] = [
    hostInAllowedCountry,
    addressesRegisteredHere,
    sovereignNodeLabels,
    k3sStateLocal,
    hostpathUnderSovereignRoot,
    sovereignWorkloadsPinned,
    noPinningAbroad,
    noForeignDataEndpoints,
    queueDataLocal,
    backupTargetLocal,
    egressDefaultDeny,
    ingressTlsRequired,
    kubeconfigPrivate,
    functionLimitsSet,
];
