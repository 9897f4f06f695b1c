/**
 * The stack's configuration: read from raw strings (as Pulumi stores them), validated in one
 * pure function, returned typed. Every problem is reported at once, each naming the key as the
 * user typed it, the value, the rule and the fix. Only the program calls this; components never
 * read config.
 */
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";

import {
    DEFAULT_K3S_VERSION,
    DEFAULT_SSH_PORT,
    DEFAULT_SSH_SOURCES,
    DEFAULT_SSH_USER,
    clusterPortOwner,
    K3S_VERSION_PATTERN,
    K3sArgValue,
    k3sArgsProblems,
    locationConstraintProblems,
    Location,
    PlatformFeatures,
    SovereignFaasPlatformArgs,
    validateFunctionsForEdition,
    validateFunctionTimeouts,
    isCidr,
    isDnsName,
    EgressDestination,
    egressDestinationProblems,
    functionEgress,
    isIPv4,
    isIPv6,
    isRecord,
    validateSysctlOverrides,
} from "../components";
import { closestKey, ConfigReader, fullKey, NOT_SHOWN, PLAN_SECRET_PLACEHOLDER, PROJECT, RawConfig } from "./config-reader";
import { pathSegments, SECRET_CAPABLE_PATHS, secretDestination } from "./secure-leaves";
import { ISO_3166_1_ALPHA2, isKnownSubdivision } from "./iso3166";
import { BackupsSettings, parseBackupsConfig } from "./settings/backups";
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
    readonly extraArgs: Readonly<Record<string, K3sArgValue>>;
    /** The extraArgs given as secure values: they reach the host on standard input only. */
    readonly secretArgs: Readonly<Record<string, pulumi.Output<K3sArgValue>>>;
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
    /** Network policies: declared destinations and the node's address. */
    readonly network: NetworkSettings;
    /** Backups; undefined when none are configured. */
    readonly backups?: BackupsSettings;
}

export interface NetworkSettings {
    readonly egress: readonly EgressDestination[];
    readonly nodeAddress?: string;
}

/** `sovereign-faas:network`: { egress: [{ cidr, ports, protocol?, description? }], nodeAddress? }. */
function parseNetwork(r: ConfigReader, host: string): NetworkSettings {
    const o = r.object("network", "{ egress: [{ cidr, ports, protocol?, description? }], nodeAddress? }") ?? {};
    r.unknownKeys("network", o, ["egress", "nodeAddress"]);
    const egress = o.egress ?? [];
    if (!Array.isArray(egress)) {
        r.problems.add(fullKey("network.egress"), egress, "must be a list of { cidr, ports, protocol?, description? }", "write it as a YAML list");
    } else {
        r.problems.addAll(egressDestinationProblems(egress, fullKey("network.egress")));
    }
    const nodeAddress = o.nodeAddress;
    if (nodeAddress !== undefined && (typeof nodeAddress !== "string" || isIP(nodeAddress) === 0)) {
        r.problems.add(fullKey("network.nodeAddress"), nodeAddress, "must be an IP address: the address K3s advertises the API at (its node-ip)", "use the node's IP address, e.g. 192.0.2.10");
    } else if (nodeAddress === undefined && host !== "" && isIP(host) === 0 && isDnsName(host)) {
        r.problems.add(
            fullKey("network.nodeAddress"),
            undefined,
            `is required when ${fullKey("host")} is a DNS name: pods reach the API server at the node's address on 6443, and a NetworkPolicy matches addresses, not names`,
            `pulumi config set --path '${fullKey("network.nodeAddress")}' <the node's IP address>`,
        );
    }
    return { egress: Array.isArray(egress) ? (egress as EgressDestination[]) : [], ...(typeof nodeAddress === "string" ? { nodeAddress } : {}) };
}

export interface ParseOptions {
    /** The project directory, where stack.yml paths are resolved. @default process.cwd() */
    readonly rootDir?: string;
    /** Environment for stack.yml substitution. @default process.env */
    readonly env?: Readonly<Record<string, string | undefined>>;
    /** How secret values are wrapped. @default pulumi.secret */
    readonly secret?: (value: string) => pulumi.Output<string>;
    /**
     * Where the stack's secure values are: paths such as `k3s.extraArgs.token`, or a whole key
     * (readSecretPaths). A secure value outside SECRET_CAPABLE_PATHS is refused, and no problem
     * shows a secure value.
     * @default []
     */
    readonly secretPaths?: readonly string[];
}

/** Words YAML reads as booleans or null: the CLI passes them on as text ("true", ""), so as names they are mistakes. */
const YAML_WORDS: ReadonlySet<string> = new Set(["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", ""]);

/** Keys whose values are secrets, whatever the stack file says. */
export const SECRET_KEYS = ["sshPrivateKey"] as const;

function parseHost(r: ConfigReader): string {
    const host = r.string("host");
    if (host === undefined || host.trim() === "") {
        r.problems.add(fullKey("host"), host, "is required: the IPv4 address, IPv6 address or DNS name of the VPS", `pulumi config set ${fullKey("host")} 192.0.2.10`);
        return "";
    }
    // A single label (`true`, `null`, `localhost`, what YAML makes of `host: true`) is no address of a VPS.
    if (!isIPv4(host) && !isIPv6(host) && !(isDnsName(host) && host.replace(/\.$/, "").includes("."))) {
        r.problems.add(fullKey("host"), host, "must be an IPv4 address, an IPv6 address or a fully qualified DNS name (with a dot)", "use the VPS's public address, e.g. 192.0.2.10 or vps1.example.no");
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

function parseK3s(r: ConfigReader, secret: (v: string) => pulumi.Output<string>): K3sSettings {
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
    const extra: Record<string, K3sArgValue> = {};
    const secretArgs: Record<string, pulumi.Output<K3sArgValue>> = {};
    if (k.extraArgs !== undefined) {
        if (!isRecord(k.extraArgs)) {
            r.problems.add(fullKey("k3s.extraArgs"), k.extraArgs, "must be a map of K3s config keys to values", "write e.g. extraArgs: { cluster-domain: cluster.local }");
        } else {
            // A flag whose value is (or holds) a secure value travels on stdin (K3sClusterArgs.secretArgs).
            const secretKeys = new Set(Object.keys(k.extraArgs).filter((key) => r.isSecret(`k3s.extraArgs.${key}`) || r.isSecret(`k3s.extraArgs["${key}"]`)));
            const problems = k3sArgsProblems(k.extraArgs, fullKey("k3s.extraArgs"), secretKeys);
            r.problems.addAll(problems);
            const bad = new Set(problems.map((p) => p.key.slice(fullKey("k3s.extraArgs.").length).replace(/\[\d+\]$/, "")));
            for (const [key, v] of Object.entries(k.extraArgs)) {
                if (bad.has(key)) {
                    continue;
                }
                const value = (Array.isArray(v) ? v.map(String) : v) as K3sArgValue;
                if (secretKeys.has(key)) {
                    // The plan runs without the passphrase: its placeholder stands for the value.
                    secretArgs[key] = secret(JSON.stringify(value)).apply((t) => JSON.parse(t) as K3sArgValue);
                } else {
                    extra[key] = value;
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
        secretArgs,
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
    "backups",
    "domain",
    "firewall",
    "functionSecrets",
    "functions",
    "host",
    "ingress",
    "k3s",
    "kernel",
    "location",
    "network",
    "openfaas",
    "sovereignRoots",
    "sshHostKey",
    "sshPort",
    "sshPrivateKey",
    "sshUser",
    "substituteEnv",
    "tls",
    "volumes",
] as const;

/** Parses and validates the whole stack config. Throws a ValidationError with every problem. */
export function parseStackConfig(raw: RawConfig, options: ParseOptions = {}): StackConfig {
    const secret = options.secret ?? ((v: string) => pulumi.secret(v));
    const secretPaths = [...new Set([...(options.secretPaths ?? []), ...SECRET_KEYS.filter((k) => raw[k] !== undefined)])];
    const r = new ConfigReader(raw, secretPaths);
    const known = [...KNOWN_KEYS, ...EXTRA_KEYS].sort();
    for (const key of Object.keys(raw)) {
        if (!known.includes(key)) {
            // Never the value: a misspelt secret key (sshPrivatKey) holds the secret.
            const hint = closestKey(key, known);
            r.problems.add(fullKey(key), NOT_SHOWN, `is not a setting of this program${hint !== undefined ? `; did you mean ${fullKey(hint)}?` : ""}`, `remove it or fix its spelling (known: ${known.join(", ")})`);
        }
    }
    for (const p of secretPaths) {
        const top = pathSegments(p)[0];
        if (known.includes(top) && secretDestination(p) === undefined) {
            r.problems.add(
                fullKey(p),
                "[secret]",
                `holds a secure value, but ${fullKey(top)} is written in plain text (into host scripts, Helm values or Kubernetes objects): it would not stay secret`,
                `set it without --secret if it is not a secret; secrets belong only in ${SECRET_CAPABLE_PATHS.map((c) => c.pattern).join(", ")}`,
            );
        }
    }
    const host = parseHost(r);
    const allowedCountries = parseAllowedCountries(r);
    const location = parseLocation(r, allowedCountries);
    const sshUser = r.string("sshUser") ?? DEFAULT_SSH_USER;
    // The CLI hands `sshUser: true` or `sshUser: null` to the program as "true" and "": YAML's words, not user names.
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser) || YAML_WORDS.has(sshUser)) {
        r.problems.add(fullKey("sshUser"), sshUser, "must be a Linux user name (lower case, at most 32 characters; not a YAML word such as true or null)", "use root or a sudo-capable user such as deploy");
    }
    const sshPort = r.has("sshPort") ? r.integer("sshPort", r.string("sshPort"), 1, 65535) ?? DEFAULT_SSH_PORT : DEFAULT_SSH_PORT;
    const portOwner = clusterPortOwner(sshPort);
    if (portOwner !== undefined) {
        r.problems.add(fullKey("sshPort"), sshPort, `is a port of ${portOwner}: the firewall would open it to the SSH sources, and sshd could not bind it`, "run sshd on 22 or another free port (not 80, 443, 2379-2381, 6443-6444, 8472, 10010, 10248-10259, 30000-32767, 51820-51821)");
    }
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
    const k3s = parseK3s(r, secret);
    const kernel = parseKernel(r);
    const firewall = parseFirewall(r);
    const openfaas = parseOpenFaasConfig(r, secret);
    const functions = parseFunctionsConfig(r, { rootDir: options.rootDir ?? process.cwd(), env: options.env ?? process.env, secret });
    const ingress = parseIngressConfig(r, openfaas.gateway.timeoutSeconds, secret);
    const network = parseNetwork(r, host ?? "");
    const backups = parseBackupsConfig(r, secret);
    r.problems.addAll(
        validateFunctionsForEdition(functions.functions, platformFeatures(openfaas), functions.file).items,
    );
    if (location.country !== "") {
        r.problems.addAll(locationConstraintProblems(functions.functions, location, functions.file).items);
    }
    r.problems.addAll(functionEgress(functions.functions, functions.file).problems.items);
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
        network,
        ...(backups !== undefined ? { backups } : {}),
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
        network: { egress: c.network.egress, ...(c.network.nodeAddress !== undefined ? { nodeAddress: c.network.nodeAddress } : {}) },
        ...(c.backups !== undefined
            ? { backups: { schedule: c.backups.schedule, retention: c.backups.retention, checkSubset: c.backups.checkSubset, target: c.backups.target, secrets: c.backups.secrets } }
            : {}),
    };
}
