import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

import { INGRESS_NAMESPACE } from "../ingress/controller";
import { CoreNetworkOptions, renderCoreNetworkPolicies } from "../network/policies";
import { registerNetworkPolicies } from "../network/resources";
import { NamedQueue } from "../queues/values";
import { Edition, FUNCTION_NAMESPACE, OPENFAAS_NAMESPACE, PlatformFeatures, PodSecurityLevel } from "../shared/edition";
import { Location, locationLabels } from "../shared/labels";
import { Problems } from "../shared/validation";
import { childOptions } from "../shared/options";
import { functionNamespacePodSecurityLabels } from "../volumes/volumes";
import {
    DEFAULT_GATEWAY_REPLICAS,
    DEFAULT_IDLE_DURATION_SECONDS,
    DEFAULT_GATEWAY_TIMEOUT_SECONDS,
    DEFAULT_OPENFAAS_CHART_VERSION,
    mergeHelmValues,
    placementOverrides,
    OPENFAAS_CHART_REPO,
    renderOpenFaasValues,
} from "./values";

/** The in-cluster gateway URL. */
export const GATEWAY_URL = `http://gateway.${OPENFAAS_NAMESPACE}:8080`;
/** The Secret the chart reads the admin credentials from (generateBasicAuth: false). */
export const BASIC_AUTH_SECRET = "basic-auth";
/** The admin user. */
export const BASIC_AUTH_USER = "admin";
/** Length of the generated admin password. */
export const BASIC_AUTH_PASSWORD_LENGTH = 32;
/** The Secret OpenFaaS Pro reads its licence from. */
export const LICENSE_SECRET = "openfaas-license";
/** Pod Security for the core services: the chart's pods are non-root, baseline is enforceable. */
export const OPENFAAS_POD_SECURITY: Readonly<Record<string, string>> = {
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
};

export interface OpenFaasArgs {
    /**
     * Network policies for the core namespace, component by component (network/policies.ts).
     * `nodeAddress` is the API server's advertise address (the node's address), where pods reach
     * the API. Undefined: no policies.
     */
    readonly network?: Omit<CoreNetworkOptions, "location" | "edition" | "callbackEgress" | "connector" | "acme" | "edgeNamespace"> & Partial<Pick<CoreNetworkOptions, "callbackEgress" | "connector" | "acme" | "edgeNamespace">>;
    /** The provider of the cluster to install into. */
    readonly provider: k8s.Provider;
    /** Where the node is; namespaces are labelled and pods pinned with it. */
    readonly location: Location;
    /**
     * `ce` (Community Edition) or `pro`.
     * @default "ce"
     */
    readonly edition?: Edition;
    /**
     * Pinned chart version.
     * @default "15.0.6" (DEFAULT_OPENFAAS_CHART_VERSION)
     */
    readonly chartVersion?: string;
    /** Pro licence (JWT), secret. Required for `pro`. */
    readonly license?: pulumi.Input<string>;
    /**
     * The longest a synchronous function may run, in seconds.
     * @default 300 (DEFAULT_GATEWAY_TIMEOUT_SECONDS)
     */
    readonly gatewayTimeoutSeconds?: number;
    /**
     * Gateway replicas.
     * @default 1 (DEFAULT_GATEWAY_REPLICAS)
     */
    readonly gatewayReplicas?: number;
    /**
     * Queue-workers and their ack wait (seconds).
     * @default { workers: 1, ackWaitSeconds: gatewayTimeoutSeconds }
     */
    readonly queue?: { readonly workers: number; readonly ackWaitSeconds: number };
    /**
     * Pro: concurrent messages per worker of the default queue.
     * @default 1
     */
    readonly maxInflight?: number;
    /**
     * Whether functions mount sovereign hostPath volumes: their namespace then enforces
     * `privileged` (see `functionNamespacePodSecurityLabels`), which Functions checks.
     * @default false
     */
    readonly hostPathVolumes?: boolean;
    /**
     * Named queues (Pro): their names and timeouts become part of `features`, which Functions
     * checks its functions against. The queue-workers themselves are AsyncQueues'.
     * @default []
     */
    readonly queues?: readonly NamedQueue[];
    /**
     * Pro scale to zero: every function gets the autoscaler's labels.
     * @default { enabled: false, defaultIdleDurationSeconds: 900 }
     */
    readonly scaleToZero?: { readonly enabled: boolean; readonly defaultIdleDurationSeconds: number };
    /**
     * Escape hatch: values merged over ours, last. Overriding one of ours produces a warning.
     * @default {}
     */
    readonly helmValues?: Readonly<Record<string, unknown>>;
}

/** The namespaces OpenFaas creates: the core's and the functions', labelled with the jurisdiction and their Pod Security levels. */
export function renderOpenFaasNamespaces(location: Location, hostPathVolumes: boolean): { core: Record<string, unknown>; functions: Record<string, unknown> } {
    const labels = locationLabels(location);
    return {
        core: { apiVersion: "v1", kind: "Namespace", metadata: { name: OPENFAAS_NAMESPACE, labels: { ...labels, ...OPENFAAS_POD_SECURITY } } },
        functions: { apiVersion: "v1", kind: "Namespace", metadata: { name: FUNCTION_NAMESPACE, labels: { ...labels, ...functionNamespacePodSecurityLabels(hostPathVolumes) } } },
    };
}

/** The Secret the chart reads the admin credentials from (generateBasicAuth: false). */
export function renderBasicAuthSecret<T>(location: Location, password: T): { apiVersion: string; kind: string; metadata: Record<string, unknown>; type: string; stringData: Record<string, T | string> } {
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: BASIC_AUTH_SECRET, namespace: OPENFAAS_NAMESPACE, labels: locationLabels(location) },
        type: "Opaque",
        stringData: { "basic-auth-password": password, "basic-auth-user": BASIC_AUTH_USER },
    };
}

/** Every problem of an OpenFaas component's arguments, before anything is created. */
export function validateOpenFaasArgs(args: Pick<OpenFaasArgs, "edition" | "license" | "helmValues">): Problems {
    const problems = new Problems();
    if ((args.edition ?? "ce") === "pro" && args.license === undefined) {
        problems.add("license", undefined, `edition "pro" needs the licence (it becomes the ${LICENSE_SECRET} Secret)`, "pass your OpenFaaS Pro licence as a secret, or use edition ce");
    }
    for (const p of placementOverrides(args.helmValues ?? {}, "helmValues")) {
        problems.add(p, "[not shown]", "sets where OpenFaaS pods run, past the location pinning the platform sets (a node of another jurisdiction could run them)", "remove it; the platform pins every pod to the sovereign node's labels");
    }
    return problems;
}

/** What Functions must know of a platform with these OpenFaas arguments (OpenFaas.features). */
export function openFaasFeatures(args: Pick<OpenFaasArgs, "edition" | "scaleToZero" | "queues" | "gatewayTimeoutSeconds" | "queue" | "hostPathVolumes">): PlatformFeatures {
    const timeout = args.gatewayTimeoutSeconds ?? DEFAULT_GATEWAY_TIMEOUT_SECONDS;
    const queues = args.queues ?? [];
    return {
        edition: args.edition ?? "ce",
        scaleToZero: args.scaleToZero ?? { enabled: false, defaultIdleDurationSeconds: DEFAULT_IDLE_DURATION_SECONDS },
        queueNames: queues.map((q) => q.name),
        gatewayTimeoutSeconds: timeout,
        ackWaitSeconds: args.queue?.ackWaitSeconds ?? timeout,
        queueTimeouts: Object.fromEntries(queues.map((q) => [q.name, q.timeoutSeconds])),
        functionNamespaceEnforce: functionNamespacePodSecurityLabels(args.hostPathVolumes === true)["pod-security.kubernetes.io/enforce"] as PodSecurityLevel,
    };
}

/** The chart values an OpenFaas component would install: ours, then the escape hatch merged over them. */
export function resolveOpenFaasValues(args: Omit<OpenFaasArgs, "provider" | "license">): { values: Record<string, unknown>; merged: Record<string, unknown>; warnings: string[] } {
    const edition = args.edition ?? "ce";
    const timeout = args.gatewayTimeoutSeconds ?? DEFAULT_GATEWAY_TIMEOUT_SECONDS;
    const values = renderOpenFaasValues({
        edition,
        gatewayTimeoutSeconds: timeout,
        gatewayReplicas: args.gatewayReplicas ?? DEFAULT_GATEWAY_REPLICAS,
        nodeSelector: locationLabels(args.location),
        queue: args.queue ?? { workers: 1, ackWaitSeconds: timeout },
        proQueue: { maxInflight: args.maxInflight ?? 1 },
    });
    const merged = mergeHelmValues(values, { ...(args.helmValues ?? {}) }, "sovereign-faas:openfaas.helmValues");
    return { values, merged: merged.values, warnings: merged.warnings };
}

/**
 * OpenFaaS as a Helm release, the way a careful operator installs it: namespaces labelled with
 * their jurisdiction, the admin password generated once and kept in state, no NodePort, the
 * gateway's timeouts consistent, pods pinned to the sovereign node.
 */
export class OpenFaas extends pulumi.ComponentResource {
    /** The admin password (user `admin`), secret. */
    readonly basicAuthPassword: pulumi.Output<string>;
    /** The in-cluster gateway URL. */
    readonly gatewayUrl: string;
    /** How to invoke a function asynchronously: replace `<name>`. */
    readonly asyncUrlPattern: string;
    /** The rendered values (before the escape hatch). */
    readonly values: Record<string, unknown>;
    /** Warnings from `helmValues` overriding ours; the program prints them. */
    readonly warnings: string[];
    /** The release, for `dependsOn`. */
    readonly release: k8s.helm.v3.Release;
    /** The functions' namespace, for `dependsOn`. */
    readonly functionNamespace: k8s.core.v1.Namespace;
    /** What Functions must know of this platform: edition, timeouts, queues, the namespace's Pod Security. */
    readonly features: PlatformFeatures;

    constructor(name: string, args: OpenFaasArgs, opts?: pulumi.ComponentResourceOptions) {
        const edition = args.edition ?? "ce";
        validateOpenFaasArgs(args).throwIfAny(`OpenFaas ${name}: invalid arguments`);
        super("sovereign-faas:openfaas:OpenFaas", name, {}, opts);
        const labels = locationLabels(args.location);
        const resolved = resolveOpenFaasValues(args);
        this.values = resolved.values;
        this.warnings = resolved.warnings;
        for (const warning of this.warnings) {
            void pulumi.log.warn(warning, this);
        }
        this.features = openFaasFeatures(args);

        const k8sOpts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions =>
            childOptions(this, opts, { provider: args.provider, ...extra });
        const namespaces = renderOpenFaasNamespaces(args.location, args.hostPathVolumes === true);
        const core = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: namespaces.core.metadata as k8s.types.input.meta.v1.ObjectMeta }, k8sOpts());
        this.functionNamespace = new k8s.core.v1.Namespace(`${name}-fn-ns`, { metadata: namespaces.functions.metadata as k8s.types.input.meta.v1.ObjectMeta }, k8sOpts());
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            { length: BASIC_AUTH_PASSWORD_LENGTH, special: false },
            { parent: this, additionalSecretOutputs: ["result"] },
        );
        this.basicAuthPassword = pulumi.secret(password.result);
        const { apiVersion: _v, kind: _k, ...basicAuthArgs } = renderBasicAuthSecret(args.location, this.basicAuthPassword);
        const basicAuth = new k8s.core.v1.Secret(`${name}-basic-auth`, basicAuthArgs as k8s.core.v1.SecretArgs, k8sOpts({ dependsOn: [core] }));
        const releaseDeps: pulumi.Resource[] = [core, this.functionNamespace, basicAuth];
        if (args.network !== undefined) {
            const policies = renderCoreNetworkPolicies({
                location: args.location,
                edition,
                nodeAddress: args.network.nodeAddress,
                callbackEgress: args.network.callbackEgress ?? [],
                connector: args.network.connector ?? false,
                acme: args.network.acme ?? false,
                edgeNamespace: args.network.edgeNamespace ?? INGRESS_NAMESPACE,
            });
            registerNetworkPolicies(`${name}-netpol`, policies, k8sOpts({ dependsOn: [core] }));
        }
        if (edition === "pro" && args.license !== undefined) {
            releaseDeps.push(
                new k8s.core.v1.Secret(
                    `${name}-license`,
                    {
                        metadata: { name: LICENSE_SECRET, namespace: OPENFAAS_NAMESPACE, labels },
                        type: "Opaque",
                        stringData: { license: pulumi.secret(args.license) },
                    },
                    k8sOpts({ dependsOn: [core] }),
                ),
            );
        }
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "openfaas",
                chart: "openfaas",
                version: args.chartVersion ?? DEFAULT_OPENFAAS_CHART_VERSION,
                repositoryOpts: { repo: OPENFAAS_CHART_REPO },
                namespace: OPENFAAS_NAMESPACE,
                values: resolved.merged,
                // The chart must not create namespaces: ours carry the jurisdiction labels.
                createNamespace: false,
                atomic: true,
                timeout: 600,
            },
            k8sOpts({ dependsOn: releaseDeps }),
        );
        this.gatewayUrl = GATEWAY_URL;
        this.asyncUrlPattern = `${GATEWAY_URL}/async-function/<name>`;
        this.registerOutputs({
            basicAuthPassword: this.basicAuthPassword,
            gatewayUrl: this.gatewayUrl,
            asyncUrlPattern: this.asyncUrlPattern,
        });
    }
}
