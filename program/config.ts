/**
 * The stack's configuration: read from raw strings (as Pulumi stores them), validated in one
 * pure function, returned typed. Every problem is reported at once, each naming the key as the
 * user typed it, the value, the rule and the fix. Only the program calls this; components never
 * read config.
 */
import * as pulumi from "@pulumi/pulumi";

import {
    DEFAULT_K3S_VERSION,
    DEFAULT_SSH_PORT,
    DEFAULT_SSH_SOURCES,
    DEFAULT_SSH_USER,
    K3S_VERSION_PATTERN,
    Location,
    MANAGED_K3S_KEYS,
    PlatformFeatures,
    SovereignFaasPlatformArgs,
    validateFunctionsForEdition,
    validateFunctionTimeouts,
    isCidr,
    isDnsName,
    isIPv4,
    isIPv6,
    isRecord,
    validateSysctlOverrides,
} from "../components";
import { ConfigReader, fullKey, PLAN_SECRET_PLACEHOLDER, PROJECT, RawConfig } from "./config-reader";
import { ISO_3166_1_ALPHA2, isKnownSubdivision } from "./iso3166";
import { FunctionsSettings, parseFunctionsConfig } from "./settings/functions";
import { IngressSettings, parseIngressConfig } from "./settings/ingress";
import { OpenFaasSettings, parseOpenFaasConfig } from "./settings/openfaas";

export { ConfigReader, fullKey, PLAN_SECRET_PLACEHOLDER, PROJECT };
export type { RawConfig };

/** Countries a host may be in unless `allowedCountries` says otherwise. */
export const DEFAULT_ALLOWED_COUNTRIES = ["NO"] as const;

export interface K3sSettings {
    readonly version: string;
    readonly channel?: string;
    readonly airgap: boolean;
    /** Whether `pulumi destroy` runs k3s-uninstall.sh (removing K3s and its datastore). */
    readonly uninstallOnDestroy: boolean;
    readonly extraArgs: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

export interface FirewallSettings {
    readonly sshSources: readonly string[];
    readonly apiSources: readonly string[];
}

export interface StackConfig {
    readonly host: string;
    readonly sshUser: string;
    readonly sshPort: number;
    /** Secret. */
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly sshHostKey?: string;
    readonly location: Location;
    readonly allowedCountries: readonly string[];
    readonly k3s: K3sSettings;
    readonly kernel: Readonly<Record<string, string | number>>;
    readonly firewall: FirewallSettings;
    readonly openfaas: OpenFaasSettings;
    readonly functions: FunctionsSettings;
    /** The public edge; undefined when no domain is set. */
    readonly ingress?: IngressSettings;
}

export interface ParseOptions {
    /** The project directory, where stack.yml paths are resolved. @default process.cwd() */
    readonly rootDir?: string;
    /** Environment for stack.yml substitution. @default process.env */
    readonly env?: Readonly<Record<string, string | undefined>>;
    /** How secret values are wrapped. @default pulumi.secret */
    readonly secret?: (value: string) => pulumi.Output<string>;
}

/** Keys whose values are secrets, whatever the stack file says. */
export const SECRET_KEYS = ["sshPrivateKey"] as const;

function parseHost(r: ConfigReader): string {
    const host = r.string("host");
    if (host === undefined || host.trim() === "") {
        r.problems.add(fullKey("host"), host, "is required: the IPv4 address, IPv6 address or DNS name of the VPS", `pulumi config set ${fullKey("host")} 192.0.2.10`);
        return "";
    }
    if (!isIPv4(host) && !isIPv6(host) && !isDnsName(host)) {
        r.problems.add(fullKey("host"), host, "must be an IPv4 address, an IPv6 address or a DNS name", "use the VPS's public address, e.g. 192.0.2.10 or vps1.example.no");
    }
    return host;
}

function parseLocation(r: ConfigReader, allowedCountries: readonly string[]): Location {
    const fallback: Location = { country: "", region: "" };
    const loc = r.object("location", "{ country, region, site?, provider? }");
    if (loc === undefined) {
        if (!r.has("location")) {
            r.problems.add(fullKey("location"), undefined, "is required: where the host physically is", `set ${fullKey("location")}: { country: NO, region: NO-03 }`);
        }
        return fallback;
    }
    r.unknownKeys("location", loc, ["country", "region", "site", "provider"]);
    const country = loc.country;
    const region = loc.region;
    if (typeof country !== "string" || !ISO_3166_1_ALPHA2.has(country)) {
        r.problems.add(fullKey("location.country"), country, "must be an ISO 3166-1 alpha-2 country code in capitals", "use a code such as NO");
    } else if (!allowedCountries.includes(country)) {
        r.problems.add(
            fullKey("location.country"),
            country,
            `must be one of the allowed countries ${JSON.stringify(allowedCountries)}: data may only live there`,
            `move the host to an allowed country, or (only with your DPO's approval) add ${country} to ${fullKey("allowedCountries")}`,
        );
    }
    if (typeof region !== "string" || !/^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(region)) {
        r.problems.add(fullKey("location.region"), region, "must be an ISO 3166-2 subdivision code like NO-03", "use the code of the host's county, e.g. NO-03 for Oslo");
    } else if (typeof country === "string" && !region.startsWith(`${country}-`)) {
        r.problems.add(fullKey("location.region"), region, `must be a subdivision of location.country (${country})`, `use a code starting with ${country}-`);
    } else if (typeof country === "string" && !isKnownSubdivision(region)) {
        r.problems.add(fullKey("location.region"), region, `is not a known ISO 3166-2 code of ${country}`, "check the code in ISO 3166-2 (for Norway: NO-03 Oslo, NO-46 Vestland, NO-50 Trøndelag, ...)");
    }
    for (const k of ["site", "provider"] as const) {
        if (loc[k] !== undefined && typeof loc[k] !== "string") {
            r.problems.add(fullKey(`location.${k}`), loc[k], "must be a text", "quote it");
        }
    }
    return {
        country: typeof country === "string" ? country : "",
        region: typeof region === "string" ? region : "",
        ...(typeof loc.site === "string" ? { site: loc.site } : {}),
        ...(typeof loc.provider === "string" ? { provider: loc.provider } : {}),
    };
}

function parseAllowedCountries(r: ConfigReader): readonly string[] {
    const value = r.structured("allowedCountries");
    const list = r.stringList("allowedCountries", value) ?? [...DEFAULT_ALLOWED_COUNTRIES];
    for (const c of list) {
        if (!ISO_3166_1_ALPHA2.has(c)) {
            r.problems.add(fullKey("allowedCountries"), c, "must list ISO 3166-1 alpha-2 country codes", "use codes such as NO");
        }
    }
    return list;
}

function parseK3s(r: ConfigReader): K3sSettings {
    const k = r.object("k3s", "{ version, channel?, airgap?, uninstallOnDestroy?, extraArgs? }") ?? {};
    r.unknownKeys("k3s", k, ["version", "channel", "airgap", "uninstallOnDestroy", "extraArgs"]);
    const version = k.version ?? DEFAULT_K3S_VERSION;
    if (typeof version !== "string" || !K3S_VERSION_PATTERN.test(version)) {
        r.problems.add(fullKey("k3s.version"), version, "must be a pinned K3s release like v1.33.5+k3s1 (not a channel such as stable or latest)", `pin an exact release, e.g. ${DEFAULT_K3S_VERSION}; use k3s.channel only alongside it`);
    }
    if (k.channel !== undefined && (typeof k.channel !== "string" || !/^(stable|latest|testing|v\d+\.\d+)$/.test(k.channel))) {
        r.problems.add(fullKey("k3s.channel"), k.channel, "must be stable, latest, testing or a minor line like v1.33", "fix or remove it (k3s.version decides what is installed)");
    }
    if (k.airgap !== undefined && typeof k.airgap !== "boolean") {
        r.problems.add(fullKey("k3s.airgap"), k.airgap, "must be true or false", "write airgap: true without quotes");
    }
    if (k.uninstallOnDestroy !== undefined && typeof k.uninstallOnDestroy !== "boolean") {
        r.problems.add(fullKey("k3s.uninstallOnDestroy"), k.uninstallOnDestroy, "must be true or false", "write uninstallOnDestroy: true without quotes, only if pulumi destroy should delete K3s and its datastore");
    }
    const extra: Record<string, string | number | boolean | readonly string[]> = {};
    if (k.extraArgs !== undefined) {
        if (!isRecord(k.extraArgs)) {
            r.problems.add(fullKey("k3s.extraArgs"), k.extraArgs, "must be a map of K3s config keys to values", "write e.g. extraArgs: { cluster-domain: cluster.local }");
        } else {
            for (const [key, v] of Object.entries(k.extraArgs)) {
                const where = fullKey(`k3s.extraArgs.${key}`);
                const cleanKey = key.replace(/^--/, "");
                if ((MANAGED_K3S_KEYS as readonly string[]).includes(cleanKey)) {
                    r.problems.add(where, v, `${cleanKey} is managed by sovereign-faas (security and location settings)`, "remove it; see the K3s section of the README for what is set");
                } else if (!/^[a-z][a-z0-9-]*$/.test(cleanKey)) {
                    r.problems.add(where, key, "must be a K3s flag name without dashes, like cluster-cidr", "use the key as it appears in config.yaml");
                } else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
                    extra[cleanKey] = v;
                } else if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
                    extra[cleanKey] = v as string[];
                } else {
                    r.problems.add(where, v, "must be a text, number, boolean or list of texts", "write it as K3s config.yaml expects");
                }
            }
        }
    }
    return {
        version: typeof version === "string" ? version : DEFAULT_K3S_VERSION,
        ...(typeof k.channel === "string" ? { channel: k.channel } : {}),
        airgap: k.airgap === true,
        uninstallOnDestroy: k.uninstallOnDestroy === true,
        extraArgs: extra,
    };
}

function parseFirewall(r: ConfigReader): FirewallSettings {
    const f = r.object("firewall", "{ sshSources: [cidr], apiSources: [cidr] }") ?? {};
    r.unknownKeys("firewall", f, ["sshSources", "apiSources"]);
    const lists: Record<"sshSources" | "apiSources", string[]> = { sshSources: [...DEFAULT_SSH_SOURCES], apiSources: [] };
    for (const name of ["sshSources", "apiSources"] as const) {
        const list = r.stringList(`firewall.${name}`, f[name]);
        if (list === undefined) {
            continue;
        }
        list.forEach((cidr, i) => {
            if (!isCidr(cidr)) {
                r.problems.add(fullKey(`firewall.${name}[${i}]`), cidr, "must be an IPv4 or IPv6 CIDR block", "write it like 203.0.113.0/24 or 2001:db8::/32");
            }
        });
        lists[name] = list;
    }
    if (lists.apiSources.length === 0) {
        r.problems.add(
            fullKey("firewall.apiSources"),
            f.apiSources,
            "must list the address pulumi up runs from: Pulumi and the Kubernetes provider reach the API on port 6443 directly (neither can tunnel through SSH), and the firewall drops 6443 from everywhere else",
            `pulumi config set --path '${fullKey("firewall.apiSources[0]")}' <the public address of the machine that runs pulumi up>/32`,
        );
    }
    if (f.sshSources !== undefined && lists.sshSources.length === 0) {
        r.problems.add(fullKey("firewall.sshSources"), [], "must not be empty: nobody could reach SSH, and pulumi up itself connects over SSH", "list the addresses you and your CI connect from");
    }
    return lists;
}

function parseKernel(r: ConfigReader): Record<string, string | number> {
    const k = r.object("kernel", "{ <sysctl key>: <value> }") ?? {};
    const problems = validateSysctlOverrides(k, fullKey("kernel"));
    r.problems.addAll(problems.items);
    return problems.empty ? (k as Record<string, string | number>) : {};
}

/** Every key the program reads; anything else under `sovereign-faas:` is a typo. */
export const KNOWN_KEYS = [
    "allowedCountries",
    "domain",
    "firewall",
    "functionSecrets",
    "functions",
    "host",
    "ingress",
    "k3s",
    "kernel",
    "location",
    "openfaas",
    "sovereignRoots",
    "sshHostKey",
    "sshPort",
    "sshPrivateKey",
    "sshUser",
    "tls",
    "volumes",
] as const;

/** Parses and validates the whole stack config. Throws a ValidationError with every problem. */
export function parseStackConfig(raw: RawConfig, options: ParseOptions = {}): StackConfig {
    const secret = options.secret ?? ((v: string) => pulumi.secret(v));
    const r = new ConfigReader(raw);
    for (const key of Object.keys(raw)) {
        if (!(KNOWN_KEYS as readonly string[]).includes(key) && !(EXTRA_KEYS as string[]).includes(key)) {
            r.problems.add(fullKey(key), raw[key], "is not a setting of this program", `remove it or fix its spelling (known: ${[...KNOWN_KEYS, ...EXTRA_KEYS].sort().join(", ")})`);
        }
    }
    const host = parseHost(r);
    const allowedCountries = parseAllowedCountries(r);
    const location = parseLocation(r, allowedCountries);
    const sshUser = r.string("sshUser") ?? DEFAULT_SSH_USER;
    if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) {
        r.problems.add(fullKey("sshUser"), sshUser, "must be a Linux user name", "use root or a sudo-capable user such as deploy");
    }
    const sshPort = r.has("sshPort") ? r.integer("sshPort", r.string("sshPort"), 1, 65535) ?? DEFAULT_SSH_PORT : DEFAULT_SSH_PORT;
    const key = r.string("sshPrivateKey");
    if (key === undefined || key === "") {
        r.problems.add(fullKey("sshPrivateKey"), undefined, "is required: every host step runs over SSH", `pulumi config set --secret ${fullKey("sshPrivateKey")} < ~/.ssh/id_ed25519`);
    } else if (key !== PLAN_SECRET_PLACEHOLDER && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
        r.problems.add(fullKey("sshPrivateKey"), "[secret]", "must be a private key in PEM/OpenSSH format", `pulumi config set --secret ${fullKey("sshPrivateKey")} < ~/.ssh/id_ed25519`);
    }
    // Pulumi.yaml's default for sshHostKey is "": not pinned.
    const hostKey = r.string("sshHostKey") === "" ? undefined : r.string("sshHostKey");
    if (hostKey !== undefined && !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(hostKey)) {
        r.problems.add(fullKey("sshHostKey"), hostKey, "must be a public host key line like `ssh-ed25519 AAAA...`", "copy it from `ssh-keyscan -t ed25519 <host>` (without the host name)");
    }
    const k3s = parseK3s(r);
    const kernel = parseKernel(r);
    const firewall = parseFirewall(r);
    const openfaas = parseOpenFaasConfig(r, secret);
    const functions = parseFunctionsConfig(r, { rootDir: options.rootDir ?? process.cwd(), env: options.env ?? process.env, secret });
    const ingress = parseIngressConfig(r, openfaas.gateway.timeoutSeconds, secret);
    r.problems.addAll(
        validateFunctionsForEdition(functions.functions, platformFeatures(openfaas), functions.file).items,
    );
    r.problems.addAll(
        validateFunctionTimeouts(
            functions.functions,
            {
                gatewaySeconds: openfaas.gateway.timeoutSeconds,
                ackWaitSeconds: openfaas.queue.ackWaitSeconds,
                queues: Object.fromEntries(openfaas.queues.map((q) => [q.name, q.timeoutSeconds])),
            },
            functions.file,
        ).items,
    );
    const config: StackConfig = {
        host,
        sshUser,
        sshPort,
        sshPrivateKey: secret(key ?? ""),
        ...(hostKey !== undefined ? { sshHostKey: hostKey } : {}),
        location,
        allowedCountries,
        k3s,
        kernel,
        firewall,
        openfaas,
        functions,
        ...(ingress !== undefined ? { ingress } : {}),
    };
    r.problems.throwIfAny("Invalid stack configuration");
    return config;
}

/** Keys read by later layers (ingress). */
const EXTRA_KEYS: string[] = [];

/** What the functions layer needs to know of the platform (the same OpenFaas derives, see OpenFaas.features). */
export function platformFeatures(o: OpenFaasSettings, hostPathVolumes = false): PlatformFeatures {
    return {
        edition: o.edition,
        scaleToZero: { enabled: o.scaleToZero.enabled, defaultIdleDurationSeconds: o.scaleToZero.defaultIdleDurationSeconds },
        queueNames: o.queues.map((q) => q.name),
        gatewayTimeoutSeconds: o.gateway.timeoutSeconds,
        ackWaitSeconds: o.queue.ackWaitSeconds,
        queueTimeouts: Object.fromEntries(o.queues.map((q) => [q.name, q.timeoutSeconds])),
        functionNamespaceEnforce: hostPathVolumes ? "privileged" : "restricted",
    };
}

/** The platform component's arguments, from a validated stack config. */
export function platformArgs(c: StackConfig): SovereignFaasPlatformArgs {
    const of = c.openfaas;
    return {
        host: c.host,
        location: c.location,
        ssh: { privateKey: c.sshPrivateKey, user: c.sshUser, port: c.sshPort, ...(c.sshHostKey !== undefined ? { hostKey: c.sshHostKey } : {}) },
        firewall: c.firewall,
        kernel: c.kernel,
        k3s: c.k3s,
        openfaas: {
            edition: of.edition,
            chartVersion: of.chartVersion,
            ...(of.license !== undefined ? { license: of.license } : {}),
            gatewayTimeoutSeconds: of.gateway.timeoutSeconds,
            gatewayReplicas: of.gateway.replicas,
            queue: { workers: of.queue.workers, ackWaitSeconds: of.queue.ackWaitSeconds },
            maxInflight: of.queue.maxInflight,
            queues: of.queues,
            scaleToZero: of.scaleToZero,
            helmValues: of.helmValues,
        },
        functions: c.functions.functions,
        functionsSource: c.functions.file,
        functionSecrets: c.functions.functionSecrets,
        volumes: c.functions.volumes,
        sovereignRoots: c.functions.sovereignRoots,
        ...(c.ingress !== undefined ? { edge: { ...c.ingress } } : {}),
    };
}
