/**
 * The neutral shape the rules judge: a resource's type, name and input properties. CrossGuard
 * hands `args.props`; the offline plan hands the recorded inputs. One rule function serves both.
 */

export type EnforcementLevel = "advisory" | "mandatory" | "disabled";

export interface ResourceView {
    readonly type: string;
    readonly name: string;
    readonly props: Record<string, unknown>;
    /** The URN, when CrossGuard knows it (for stack-level reports). */
    readonly urn?: string;
}

/** Settings of the pack, as in `--policy-pack-config`. */
export interface PackConfig {
    readonly allowedCountries: readonly string[];
    /** ISO 3166-2 codes; empty means any region of an allowed country. */
    readonly allowedRegions: readonly string[];
    readonly sovereignRoots: readonly string[];
    /** Host suffixes data may flow to (`.no`); in-cluster names are always allowed. */
    readonly allowedEgressDomains: readonly string[];
    /** Namespaces of the cluster: `<service>.<namespace>` names are in-cluster. */
    readonly clusterNamespaces: readonly string[];
    /** Host suffixes of foreign (US-owned) storage clouds. */
    readonly foreignStoragePatterns: readonly string[];
}

/**
 * Thrown by a rule that found no violation but read a value that is not known until the
 * resources it comes from exist. It is never a pass: evaluateRules records it as CrossGuard
 * records the @pulumi/policy UnknownValueError (server.js: an advisory "can't run policy ...
 * during preview" diagnostic), and the pack hands it to CrossGuard as that error.
 */
export class UnknownAtPreview extends Error {
    constructor(readonly field: string) {
        super(`${field} can't be known during preview, so it could not be checked`);
        this.name = "UnknownAtPreview";
    }
}

/** The value the offline recorder writes for an unknown (an output not known at preview). */
export const UNKNOWN_VALUE = "[unknown]";

export interface Violation {
    readonly resource: ResourceView;
    readonly message: string;
}

export interface Rule {
    /** kebab-case. */
    readonly name: string;
    /** "Checks whether ...". */
    readonly description: string;
    readonly enforcementLevel: EnforcementLevel;
    /** The pack settings this rule reads: the only ones its `--policy-pack-config` entry may give. */
    readonly settings: readonly (keyof PackConfig)[];
    /** Judges one resource; returns "X must ..." messages. */
    readonly checkResource?: (r: ResourceView, config: PackConfig) => string[];
    /** Judges the whole stack (rules that relate resources). */
    readonly checkStack?: (resources: readonly ResourceView[], config: PackConfig) => Violation[];
}

/** True for plain objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Values the plan or a preview does not know yet: never judged as wrong. */
export function isUnknown(v: unknown): boolean {
    return v === undefined || v === "[unknown]" || v === "[secret]";
}
