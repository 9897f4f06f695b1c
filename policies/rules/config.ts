import { EnforcementLevel, PackConfig, Rule } from "./types";

/**
 * Defaults of the pack. US-owned object storage is matched by host suffix: a URL to any of
 * these moves data to a provider under the US CLOUD Act, wherever the region says it is.
 */
export const DEFAULT_CONFIG: PackConfig = {
    allowedCountries: ["NO"],
    allowedRegions: [],
    sovereignRoots: ["/data/sovereign"],
    allowedEgressDomains: [".no"],
    clusterNamespaces: ["cert-manager", "default", "kube-system", "nginx-ingress", "openfaas", "openfaas-fn"],
    foreignStoragePatterns: [
        "amazonaws.com",
        "amazonaws.com.cn",
        "cloudfront.net",
        "blob.core.windows.net",
        "windows.net",
        "azure.com",
        "storage.googleapis.com",
        "googleapis.com",
        "digitaloceanspaces.com",
        "r2.cloudflarestorage.com",
        "backblazeb2.com",
        "wasabisys.com",
        "oraclecloud.com",
        "appdomain.cloud",
        "linodeobjects.com",
    ],
};

/**
 * JSON schema of each setting (CrossGuard `configSchema` properties), with its default. The CLI
 * validates them with gojsonschema, whose patterns are Go RE2: a pattern must mean the same in RE2
 * and in JavaScript (no `\u` escapes, lookarounds or backreferences; the engine tier found a `\u0000`
 * that RE2 refuses, "pattern must be a valid regex").
 */
export const CONFIG_SCHEMA_PROPERTIES = {
    allowedCountries: { type: "array", items: { type: "string", pattern: "^[A-Z]{2}$" }, default: DEFAULT_CONFIG.allowedCountries },
    allowedRegions: { type: "array", items: { type: "string", pattern: "^[A-Z]{2}-[A-Z0-9]{1,3}$" }, default: DEFAULT_CONFIG.allowedRegions },
    sovereignRoots: { type: "array", items: { type: "string", pattern: "^/[^\\x00]*[^/]$" }, default: DEFAULT_CONFIG.sovereignRoots },
    allowedEgressDomains: { type: "array", items: { type: "string", pattern: "^[.]?[a-z0-9-]+(\\.[a-z0-9-]+)*$" }, default: DEFAULT_CONFIG.allowedEgressDomains },
    clusterNamespaces: { type: "array", items: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }, default: DEFAULT_CONFIG.clusterNamespaces },
    foreignStoragePatterns: { type: "array", items: { type: "string", pattern: "^[*]?[.]?[a-z0-9-]+(\\.[a-z0-9-]+)*$" }, default: DEFAULT_CONFIG.foreignStoragePatterns },
} as const;

export type SettingName = keyof PackConfig;
export const SETTING_NAMES = Object.keys(CONFIG_SCHEMA_PROPERTIES) as SettingName[];

/**
 * The enforcement levels CrossGuard accepts, exactly (pulumi sdk/go/common/apitype/policy.go
 * EnforcementLevel.IsValid: advisory, mandatory, remediate, disabled; case-sensitive).
 */
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type ConfiguredLevel = (typeof ENFORCEMENT_LEVELS)[number];

/** The key that sets the level of every policy (pkg/resource/analyzer/config.go applyConfig: levels only). */
export const ALL_POLICIES_KEY = "all";

/** What a `--policy-pack-config` document resolves to: each rule's level and its own settings. */
export interface PackSettings {
    /** The level each rule reports at; `remediate` reports as mandatory (our rules remediate nothing). */
    readonly levels: Readonly<Record<string, EnforcementLevel>>;
    /** Each rule's settings: the defaults, then what the document gives that rule. */
    readonly settings: Readonly<Record<string, PackConfig>>;
}

/** The pack with no document: every rule at its own level, with the defaults. */
export function defaultPackSettings(rules: readonly Rule[]): PackSettings {
    return {
        levels: Object.fromEntries(rules.map((r) => [r.name, r.enforcementLevel])),
        settings: Object.fromEntries(rules.map((r) => [r.name, DEFAULT_CONFIG])),
    };
}

/** Merges one rule's settings over the defaults. Values must already be valid (see settingProblem). */
export function resolveConfig(partial: Partial<Record<SettingName, unknown>> = {}): PackConfig {
    const out: Record<string, readonly string[]> = { ...DEFAULT_CONFIG };
    for (const key of SETTING_NAMES) {
        const v = Object.prototype.hasOwnProperty.call(partial, key) ? partial[key] : undefined;
        if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
            out[key] = v;
        }
    }
    return out as unknown as PackConfig;
}

/** Why a setting's value breaks its schema (the checks the CLI's gojsonschema makes), or undefined. */
export function settingProblem(name: SettingName, value: unknown): string | undefined {
    const schema = CONFIG_SCHEMA_PROPERTIES[name];
    if (!Array.isArray(value)) {
        return `must be a list of strings; it is ${describe(value)}`;
    }
    const pattern = new RegExp(schema.items.pattern, "u");
    for (const [i, item] of value.entries()) {
        if (typeof item !== "string") {
            return `item ${i} must be a string; it is ${describe(item)}`;
        }
        if (!pattern.test(item)) {
            return `item ${i} ${JSON.stringify(item.slice(0, 80))} does not match ${schema.items.pattern}`;
        }
    }
    return undefined;
}

function describe(v: unknown): string {
    if (v === null) {
        return "null";
    }
    if (Array.isArray(v)) {
        return "a list";
    }
    return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

/** Edit distance with adjacent transpositions, for "did you mean". */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) {
        d[0][j] = j;
    }
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}

/** The closest of `known` to `name`, when close enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
    const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, "");
    let best: { name: string; d: number } | undefined;
    for (const k of known) {
        const d = norm(k) === norm(name) ? 0 : editDistance(name.toLowerCase(), k.toLowerCase());
        if (best === undefined || d < best.d) {
            best = { name: k, d };
        }
    }
    return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 4)) ? best.name : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);

function levelProblem(where: string, value: unknown): string | undefined {
    if (typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value)) {
        return undefined;
    }
    const hint = typeof value === "string" ? closest(value, ENFORCEMENT_LEVELS) : undefined;
    return `${where}: ${typeof value === "string" ? quote(value) : describe(value)} is not an enforcement level; use one of ${ENFORCEMENT_LEVELS.join(", ")} (exactly, lower case)${hint !== undefined ? `: did you mean "${hint}"?` : ""}`;
}

/**
 * Parses a `--policy-pack-config` document as CrossGuard applies it, and stricter where
 * CrossGuard is silent. CrossGuard (pkg/resource/analyzer/config.go): a value is a level or an
 * object of `enforcementLevel` plus settings; a level must be exactly one of the four; `all`
 * sets every policy's level and nothing else; a policy's settings are that policy's alone
 * (`getConfig` returns only them); the defaults come from each policy's schema. Stricter on
 * purpose: an unknown policy name, a setting the policy does not read, settings under `all`
 * and any value that breaks a setting's schema are problems, so a typo can never weaken the pack
 * without a word. Every problem is returned, none thrown.
 */
export function parsePackConfig(doc: unknown, rules: readonly Rule[]): PackSettings & { problems: string[] } {
    const problems: string[] = [];
    const base = defaultPackSettings(rules);
    const levels: Record<string, EnforcementLevel> = { ...base.levels };
    const settings: Record<string, PackConfig> = { ...base.settings };
    if (!isPlainObject(doc)) {
        problems.push(`the policy pack config must be a JSON object of policy name to level or { "enforcementLevel": ..., <settings> }; it is ${describe(doc)}`);
        return { levels, settings, problems };
    }
    const byName = new Map(rules.map((r) => [r.name, r]));
    const names = [...byName.keys()];
    const report = (level: ConfiguredLevel): EnforcementLevel => (level === "remediate" ? "mandatory" : level);

    // `all` first, then each policy (a policy's own level wins over `all`).
    const entries = Object.entries(doc).sort(([a], [b]) => (a === ALL_POLICIES_KEY ? -1 : b === ALL_POLICIES_KEY ? 1 : 0));
    for (const [key, value] of entries) {
        if (key === ALL_POLICIES_KEY) {
            const level = isPlainObject(value) ? value.enforcementLevel : value;
            const p = levelProblem(`"all"`, level);
            if (p !== undefined) {
                problems.push(p);
            } else {
                for (const name of names) {
                    levels[name] = report(level as ConfiguredLevel);
                }
            }
            if (isPlainObject(value)) {
                for (const k of Object.keys(value).filter((k) => k !== "enforcementLevel")) {
                    problems.push(`"all".${k}: "all" sets only the enforcement level; CrossGuard applies no setting from it. Give ${quote(k)} to each policy that reads it`);
                }
            }
            continue;
        }
        const rule = byName.get(key);
        if (key === "environments") {
            problems.push(`"environments": Pulumi ESC environments in a policy pack config are resolved by Pulumi Cloud; this pack and its offline plan read settings only from the document itself. Write the settings into it`);
            continue;
        }
        if (rule === undefined) {
            const hint = closest(key, names);
            problems.push(`${quote(key)} is not a policy of this pack${hint !== undefined ? `: did you mean "${hint}"?` : ""}; the policies are ${names.join(", ")} (and "all")`);
            continue;
        }
        if (typeof value === "string") {
            const p = levelProblem(`"${key}"`, value);
            if (p !== undefined) {
                problems.push(p);
            } else {
                levels[key] = report(value as ConfiguredLevel);
            }
            continue;
        }
        if (!isPlainObject(value)) {
            problems.push(`"${key}": must be an enforcement level or an object of "enforcementLevel" and settings; it is ${describe(value)}`);
            continue;
        }
        const given: Partial<Record<SettingName, unknown>> = {};
        for (const [k, v] of Object.entries(value)) {
            if (k === "enforcementLevel") {
                const p = levelProblem(`"${key}".enforcementLevel`, v);
                if (p !== undefined) {
                    problems.push(p);
                } else {
                    levels[key] = report(v as ConfiguredLevel);
                }
                continue;
            }
            if (!(rule.settings as readonly string[]).includes(k)) {
                const own = rule.settings.length > 0 ? `its settings are ${rule.settings.join(", ")}` : "it has no settings";
                const hint = closest(k, rule.settings);
                const elsewhere = rules.filter((r) => (r.settings as readonly string[]).includes(k)).map((r) => r.name);
                problems.push(
                    `"${key}".${k}: ${quote(k)} is not a setting of ${key}${hint !== undefined ? ` (did you mean "${hint}"?)` : ""}; ${own}${elsewhere.length > 0 ? `. ${k} is read by ${elsewhere.join(", ")}: give it to each of them` : ""}`,
                );
                continue;
            }
            const p = settingProblem(k as SettingName, v);
            if (p !== undefined) {
                problems.push(`"${key}".${k}: ${p}`);
                continue;
            }
            given[k as SettingName] = v;
        }
        settings[key] = resolveConfig(given);
    }
    return { levels, settings, problems };
}
