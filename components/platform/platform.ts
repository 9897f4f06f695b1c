/**
 * The whole platform as one component: the host bootstrapped over SSH, K3s, OpenFaaS with its
 * queues, the functions and their sovereign volumes, and the NGINX edge. Users start here, the
 * way pulumi-eks users start at `eks.Cluster`; the parts stay exported for other compositions.
 *
 *   SSH connection -> preflight -> kernel tuning -> firewall -> K3s -> kubeconfig -> provider
 *   provider -> OpenFaaS (namespaces, basic auth, release) -> queues, functions
 *   SSH connection -> preflight -> sovereign volume directories -> the functions that mount them
 *   provider -> NGINX controller (+ TLS) -> Ingresses to the gateway
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";

import { FunctionSpec, Functions, functionsMemoryRequestsMiB, topicsOf, validateFunctionsArgs } from "../functions";
import { Firewall, KernelTuning, Preflight, requiredMemoryMiB, SshConnection, validateFirewallArgs, validateSysctlOverrides } from "../host";
import { EDGE_MEMORY_REQUEST, EdgeTls, INGRESS_NAMESPACE, NginxEdge, RateLimit, TlsMode, validateEdgeArgs } from "../ingress";
import { BackupSecrets, BackupSettings, BackupTarget, SovereignBackups, validateBackupSettings } from "../backups";
import { EgressDestination, egressDestinationProblems } from "../network";
import { K3sArgValue, K3sCluster, validateK3sClusterArgs } from "../k3s";
import { OpenFaas, openFaasFeatures, openFaasMemoryRequestsMiB, resolveOpenFaasValues, validateOpenFaasArgs } from "../openfaas";
import { asyncMemoryRequestsMiB, AsyncQueues, NamedQueue, validateAsyncQueuesArgs } from "../queues";
import { Edition, Location, memoryMiB, Problems } from "../shared";
import { DEFAULT_SOVEREIGN_ROOTS, SovereignVolume, SovereignVolumes, VolumeRecord } from "../volumes";

export interface PlatformSshArgs {
    /** The private key (OpenSSH PEM); secret. */
    readonly privateKey: pulumi.Input<string>;
    /** @default "root" */
    readonly user?: string;
    /** @default 22 */
    readonly port?: number;
    /** The host's public key; when set, a host presenting another key is refused. @default undefined (not checked) */
    readonly hostKey?: string;
}

export interface PlatformK3sArgs {
    /** @default DEFAULT_K3S_VERSION */
    readonly version?: string;
    /** @default undefined */
    readonly channel?: string;
    /** @default false */
    readonly airgap?: boolean;
    /** @default false: a destroy leaves K3s and its data on the host */
    readonly uninstallOnDestroy?: boolean;
    /** K3s flags by full name (see k3s/flags.ts). @default {} */
    readonly extraArgs?: Readonly<Record<string, K3sArgValue>>;
    /** K3s flags with secret values, sent on standard input only. @default {} */
    readonly secretArgs?: Readonly<Record<string, pulumi.Input<K3sArgValue>>>;
}

export interface PlatformBackupsArgs {
    /** systemd OnCalendar. @default "*-*-* 03:15:00" */
    readonly schedule?: string;
    /** @default { daily: 7, weekly: 4, monthly: 6 } */
    readonly retention?: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** @default "5%" */
    readonly checkSubset?: string;
    readonly target: BackupTarget;
    readonly secrets: BackupSecrets;
}

/** The backup settings the platform installs: the volumes are its sovereign roots, the K3s its own. */
export function platformBackupSettings(args: Pick<SovereignFaasPlatformArgs, "host" | "sovereignRoots"> & { readonly backups: PlatformBackupsArgs }): BackupSettings {
    const b = args.backups;
    return {
        schedule: b.schedule ?? "*-*-* 03:15:00",
        retention: b.retention ?? { daily: 7, weekly: 4, monthly: 6 },
        checkSubset: b.checkSubset ?? "5%",
        target: b.target,
        volumeRoots: args.sovereignRoots ?? DEFAULT_SOVEREIGN_ROOTS,
        k3s: true,
        backupHost: args.host,
    };
}

export interface PlatformNetworkArgs {
    /** Destinations outside the cluster every function (and a queue-worker's callback) may reach. @default [] */
    readonly egress?: readonly EgressDestination[];
    /**
     * The API server's advertise address (kube-router judges a pod's call to the API there, on
     * 6443, after kube-proxy's DNAT). Required when `host` is a DNS name.
     * @default host, when it is an IP address
     */
    readonly nodeAddress?: string;
}

/** The node address the network policies allow the API at, or undefined when it cannot be known. */
export function platformNodeAddress(args: Pick<SovereignFaasPlatformArgs, "host" | "network">): string | undefined {
    const given = args.network?.nodeAddress ?? args.host;
    return isIP(given) !== 0 ? given : undefined;
}

export interface PlatformOpenFaasArgs {
    /** @default "ce" */
    readonly edition?: Edition;
    /** @default DEFAULT_OPENFAAS_CHART_VERSION */
    readonly chartVersion?: string;
    /** Pro licence, secret; required for `pro`. */
    readonly license?: pulumi.Input<string>;
    /** @default 300 */
    readonly gatewayTimeoutSeconds?: number;
    /** @default 1 */
    readonly gatewayReplicas?: number;
    /** @default { workers: 1, ackWaitSeconds: gatewayTimeoutSeconds } */
    readonly queue?: { readonly workers: number; readonly ackWaitSeconds: number };
    /** Pro: concurrent messages per worker of the default queue. @default 1 */
    readonly maxInflight?: number;
    /** Named queues (Pro). @default [] */
    readonly queues?: readonly NamedQueue[];
    /** Pro scale to zero. @default disabled */
    readonly scaleToZero?: { readonly enabled: boolean; readonly defaultIdleDurationSeconds: number };
    /** Chart values merged over ours, last (overrides are warned about). @default {} */
    readonly helmValues?: Readonly<Record<string, unknown>>;
}

export interface PlatformEdgeArgs {
    /** The gateway's public DNS name. */
    readonly domain: string;
    readonly tls: EdgeTls;
    /** @default the gateway's write timeout plus 5 s */
    readonly timeoutSeconds?: number;
    /** @default "50m" */
    readonly maxBodySize?: string;
    /** @default { number: 8, size: "16k" } */
    readonly buffers?: { readonly number: number; readonly size: string };
    /** @default "32k" */
    readonly bufferSize?: string;
    /** @default { rate: "10r/s", burst: 20, noDelay: true } */
    readonly rateLimit?: RateLimit;
    /** @default [] (anyone; basic auth still applies) */
    readonly systemAllowFrom?: readonly string[];
}

export interface SovereignFaasPlatformArgs {
    /** The VPS: IPv4, IPv6 or DNS name. */
    readonly host: string;
    /** Where it is; stamped into every script and every node label. */
    readonly location: Location;
    readonly ssh: PlatformSshArgs;
    /** SSH and API sources; `apiSources` must cover the machine that runs `pulumi up`. */
    readonly firewall: { readonly sshSources: readonly string[]; readonly apiSources: readonly string[] };
    /** Sysctl overrides merged over the built-in profile. @default {} */
    readonly kernel?: Readonly<Record<string, string | number>>;
    /** @default {} */
    readonly k3s?: PlatformK3sArgs;
    /** @default Community Edition with the defaults */
    readonly openfaas?: PlatformOpenFaasArgs;
    /** Parsed functions (see `parseStackYml`). @default [] */
    readonly functions?: readonly FunctionSpec[];
    /** Where the functions came from, for messages. @default "functions" */
    readonly functionsSource?: string;
    /** Values of the Secrets the functions name: secret -> key -> value (secret). @default {} */
    readonly functionSecrets?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
    /** Validated sovereign volumes (see `validateVolumes`). @default [] */
    readonly volumes?: readonly SovereignVolume[];
    /** @default ["/data/sovereign"] */
    readonly sovereignRoots?: readonly string[];
    /** The public edge; undefined: the gateway stays inside the cluster. @default undefined */
    readonly edge?: PlatformEdgeArgs;
    /**
     * Network policies: every namespace the platform runs workloads in denies all traffic by
     * default, and each component is allowed what it needs (network/policies.ts).
     * @default { egress: [] }, nodeAddress the host when it is an IP address
     */
    readonly network?: PlatformNetworkArgs;
    /** Backups of the K3s datastore and the sovereign volumes (SovereignBackups). @default undefined: none */
    readonly backups?: PlatformBackupsArgs;
    /**
     * Prefix of every child's name. Empty keeps the names the program has always used, so stacks
     * deployed with it upgrade in place; set one to run two platforms in one stack.
     * @default ""
     */
    readonly namePrefix?: string;
}

/**
 * The children were top-level resources before this component existed (program 0.1): each
 * carries an alias to its old parent, the stack, and the engine applies a parent's aliases to its
 * children too (pkg/resource/deploy/step_generator.go, generateAliases), so no URN changes and
 * nothing is replaced or deleted. `{ parent: rootStackResource }` is the SDK's spelling of "no
 * parent" (resource.d.ts, Alias.parent).
 */
function wasTopLevel(): pulumi.Alias[] {
    return [{ parent: pulumi.rootStackResource }];
}

/** Checks the arguments the components do not check themselves; every problem at once. */
export function validatePlatformArgs(args: SovereignFaasPlatformArgs): Problems {
    const problems = new Problems();
    if (args.firewall.apiSources.length === 0) {
        problems.add("firewall.apiSources", [], "must list the address pulumi up runs from: it reaches the Kubernetes API on 6443 directly", "add the runner's public address as <ip>/32");
    }
    if (args.firewall.sshSources.length === 0) {
        problems.add("firewall.sshSources", [], "must not be empty: pulumi up itself connects over SSH", "list the addresses you and your CI connect from");
    }
    // Every component's own rules, here, before the host steps that come first exist: a component
    // that throws later would leave the steps registered before it half-applied.
    const of = args.openfaas ?? {};
    problems.addAll(validateOpenFaasArgs(of).items.map((p) => ({ ...p, key: `openfaas.${p.key}` })));
    problems.addAll(validateAsyncQueuesArgs(of).items.map((p) => ({ ...p, key: `openfaas.${p.key}` })));
    const volumes = args.volumes ?? [];
    problems.addAll(
        validateFunctionsArgs({
            functions: args.functions ?? [],
            features: openFaasFeatures({ ...of, hostPathVolumes: volumes.length > 0 }),
            functionSecrets: args.functionSecrets,
            volumes,
            source: args.functionsSource,
            location: args.location,
        }).items,
    );
    if (args.edge !== undefined) {
        problems.addAll(validateEdgeArgs({ ...args.edge, gatewayTimeoutSeconds: of.gatewayTimeoutSeconds }).items.map((p) => ({ ...p, key: `edge.${p.key}` })));
    }
    // The network policies.
    if (platformNodeAddress(args) === undefined) {
        problems.add(
            args.network?.nodeAddress !== undefined ? "network.nodeAddress" : "host",
            args.network?.nodeAddress ?? args.host,
            "must be an IP address for the network policies: pods reach the API server at the node's address on 6443, and a NetworkPolicy matches addresses, not names",
            "set network.nodeAddress to the node's IP address (the address K3s advertises: its node-ip)",
        );
    }
    problems.addAll(egressDestinationProblems(args.network?.egress ?? [], "network.egress"));
    if (args.backups !== undefined) {
        problems.addAll(validateBackupSettings(platformBackupSettings({ ...args, backups: args.backups }), args.backups.secrets, "backups").items);
    }
    // The firewall, the kernel and the K3s flags.
    problems.addAll(validateFirewallArgs({ ...args.firewall, sshPort: args.ssh.port }).items.map((p) => ({ ...p, key: p.key === "sshPort" ? "ssh.port" : `firewall.${p.key}` })));
    problems.addAll(validateSysctlOverrides(args.kernel ?? {}, "kernel").items);
    problems.addAll(validateK3sClusterArgs(args.k3s ?? {}).items.map((p) => ({ ...p, key: `k3s.${p.key}` })));
    return problems;
}

/** The whole platform. See the module comment; the outputs are what the program exports. */
export class SovereignFaasPlatform extends pulumi.ComponentResource {
    readonly connection: SshConnection;
    readonly preflight: Preflight;
    readonly kernel: KernelTuning;
    readonly firewall: Firewall;
    readonly cluster: K3sCluster;
    readonly volumes: SovereignVolumes;
    /** The backups; undefined when none are configured. */
    readonly backups?: SovereignBackups;
    readonly openfaas: OpenFaas;
    readonly queues: AsyncQueues;
    readonly functions: Functions;
    readonly edge?: NginxEdge;
    /** The provider of the cluster, for more objects in it. */
    readonly provider: k8s.Provider;
    /** The admin kubeconfig, secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** The memory floor the preflight enforces: K3s plus every request of this stack, MiB. */
    readonly memoryFloorMiB: number;
    readonly publicUrl?: string;
    readonly tlsMode?: TlsMode;
    readonly sovereignVolumes: VolumeRecord[];

    constructor(name: string, args: SovereignFaasPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): nothing is registered when the arguments are wrong.
        validatePlatformArgs(args).throwIfAny(`SovereignFaasPlatform ${name}: invalid arguments`);
        super("sovereign-faas:platform:SovereignFaasPlatform", name, {}, opts);
        const n = (child: string): string => `${args.namePrefix ?? ""}${child}`;
        const child = (extra: pulumi.ComponentResourceOptions = {}): pulumi.ComponentResourceOptions => ({ ...extra, parent: this, aliases: wasTopLevel() });
        const location = args.location;
        const of = args.openfaas ?? {};
        const functions = args.functions ?? [];
        const volumes = args.volumes ?? [];
        const sovereignRoots = args.sovereignRoots ?? DEFAULT_SOVEREIGN_ROOTS;
        const topics = functions.flatMap(topicsOf);
        const openFaasOptions = {
            edition: of.edition,
            chartVersion: of.chartVersion,
            gatewayTimeoutSeconds: of.gatewayTimeoutSeconds,
            gatewayReplicas: of.gatewayReplicas,
            queue: of.queue,
            maxInflight: of.maxInflight,
            queues: of.queues,
            scaleToZero: of.scaleToZero,
            helmValues: of.helmValues,
        };

        // The memory floor: K3s itself plus what every workload of this stack requests.
        this.memoryFloorMiB = requiredMemoryMiB(
            openFaasMemoryRequestsMiB(resolveOpenFaasValues({ location, ...openFaasOptions }).merged, of.edition ?? "ce") +
                asyncMemoryRequestsMiB(of.queues ?? [], topics) +
                functionsMemoryRequestsMiB(functions) +
                (args.edge === undefined ? 0 : (memoryMiB(EDGE_MEMORY_REQUEST) ?? 0)),
        );

        // --- The host -------------------------------------------------------------------------
        this.connection = new SshConnection(
            n("host"),
            { host: args.host, location, user: args.ssh.user, port: args.ssh.port, privateKey: args.ssh.privateKey, hostKey: args.ssh.hostKey },
            child(),
        );
        const remote = { connection: this.connection.connection, user: this.connection.user, location };
        this.preflight = new Preflight(n("preflight"), { ...remote, dataPath: sovereignRoots[0], minMemoryMiB: this.memoryFloorMiB }, child({ dependsOn: [this.connection] }));
        this.kernel = new KernelTuning(n("kernel"), { ...remote, sysctls: args.kernel }, child({ dependsOn: [this.preflight] }));
        this.firewall = new Firewall(
            n("firewall"),
            { ...remote, sshSources: args.firewall.sshSources, apiSources: args.firewall.apiSources, sshPort: args.ssh.port, requireClientApiAccess: true },
            child({ dependsOn: [this.kernel] }),
        );
        this.cluster = new K3sCluster(
            n("k3s"),
            { ...remote, host: args.host, ...args.k3s },
            // protect-kernel-defaults: the kubelet refuses to start before the kernel step has run.
            child({ dependsOn: [this.kernel, this.firewall] }),
        );
        // Sovereign data directories need only SSH and the preflight; they are created while K3s installs.
        this.volumes = new SovereignVolumes(n("volumes"), { ...remote, host: args.host, volumes, sovereignRoots }, child({ dependsOn: [this.preflight] }));
        if (args.backups !== undefined) {
            // After K3s (its datastore is backed up) and the volume directories.
            this.backups = new SovereignBackups(
                n("backups"),
                { ...remote, settings: platformBackupSettings({ ...args, backups: args.backups }), secrets: args.backups.secrets },
                child({ dependsOn: [this.cluster, this.volumes] }),
            );
        }
        this.provider = this.cluster.provider;
        this.kubeconfig = this.cluster.kubeconfig;

        // --- The platform ---------------------------------------------------------------------
        const nodeAddress = platformNodeAddress(args) as string;
        const egress = args.network?.egress ?? [];
        this.openfaas = new OpenFaas(
            n("openfaas"),
            {
                provider: this.provider,
                location,
                license: of.license,
                hostPathVolumes: volumes.length > 0,
                ...openFaasOptions,
                network: { nodeAddress, callbackEgress: egress, connector: topics.length > 0, acme: args.edge?.tls.mode === "acme", edgeNamespace: INGRESS_NAMESPACE },
            },
            child(),
        );
        this.queues = new AsyncQueues(
            n("queues"),
            { provider: this.provider, location, edition: of.edition, queues: of.queues, topics, upstreamTimeoutSeconds: this.openfaas.features.gatewayTimeoutSeconds },
            child({ dependsOn: [this.openfaas.release] }),
        );
        this.functions = new Functions(
            n("functions"),
            {
                provider: this.provider,
                location,
                functions,
                features: this.openfaas.features,
                functionSecrets: args.functionSecrets,
                volumes,
                volumeDependency: this.volumes,
                source: args.functionsSource,
                network: { egress },
            },
            // Functions need their namespace; they do not wait for the chart's pods.
            child({ dependsOn: [this.openfaas.functionNamespace] }),
        );

        // --- The edge -------------------------------------------------------------------------
        if (args.edge !== undefined) {
            this.edge = new NginxEdge(
                n("edge"),
                { ...args.edge, provider: this.provider, location, host: args.host, gatewayTimeoutSeconds: this.openfaas.features.gatewayTimeoutSeconds, gateway: this.openfaas.release, network: { nodeAddress } },
                child(),
            );
            this.publicUrl = this.edge.url;
            this.tlsMode = this.edge.tlsMode;
        } else {
            void pulumi.log.warn("no edge (domain) is configured: the gateway is reachable only inside the cluster", this);
        }
        this.sovereignVolumes = this.volumes.volumes;
        this.registerOutputs({ kubeconfig: this.kubeconfig, publicUrl: this.publicUrl, memoryFloorMiB: this.memoryFloorMiB });
    }
}
