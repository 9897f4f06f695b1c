/**
 * Where the platform runs, and the labels that tell Kubernetes (and the policy pack) so.
 *
 * The label keys are part of the public contract: the policy pack and other teams' workloads
 * select on them, so they never change.
 */

/** Well-known Kubernetes label for the node's region (we put the ISO 3166-2 code there). */
export const REGION_LABEL = "topology.kubernetes.io/region";
/** Our label for the legal jurisdiction (ISO 3166-1 alpha-2) of the node and of namespaces. */
export const JURISDICTION_LABEL = "sovereign-faas.io/jurisdiction";
/** Label on namespaces and workloads that hold personal data from sovereign volumes. */
export const SOVEREIGN_DATA_LABEL = "sovereign-faas.io/sovereign-data";

/** The physical and legal location of a host. */
export interface Location {
    /** ISO 3166-1 alpha-2 country code, e.g. `NO`. */
    readonly country: string;
    /** ISO 3166-2 subdivision code, e.g. `NO-03` (Oslo). */
    readonly region: string;
    /** Free-text data centre or site name, e.g. `Oslo DC1`. */
    readonly site?: string;
    /** The hosting provider, e.g. the VPS company. */
    readonly provider?: string;
}

/** The node labels that pin workloads to a location. */
export function locationLabels(location: Location): Record<string, string> {
    return {
        [JURISDICTION_LABEL]: location.country,
        [REGION_LABEL]: location.region,
    };
}
