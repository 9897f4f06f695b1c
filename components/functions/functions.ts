import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { FUNCTION_NAMESPACE, PlatformFeatures } from "../shared/edition";
import { Problems } from "../shared/validation";
import { validateFunctionsForEdition, validateFunctionTimeouts } from "./edition-rules";
import { Location, locationLabels } from "../shared/labels";
import { childOptions } from "../shared/options";
import { scaleToZeroLabels } from "../openfaas/values";
import { EGRESS_ANNOTATION, EgressDestination, egressDestinationProblems, parseEgressAnnotation, renderFunctionNetworkPolicies } from "../network/policies";
import { registerNetworkPolicies } from "../network/resources";
import { SovereignVolume } from "../volumes/volumes";
import { FUNCTION_DEPLOYMENT_IGNORE_CHANGES, renderFunctionDeployment, renderFunctionService } from "./manifests";
import { FunctionSpec } from "./stack-yml";

export interface FunctionsArgs {
    readonly provider: k8s.Provider;
    readonly location: Location;
    /** Parsed and validated functions (see `parseStackYml`, `validateFunctionsForEdition`). */
    readonly functions: readonly FunctionSpec[];
    /** The platform: edition, scale to zero, queues. */
    readonly features: PlatformFeatures;
    /**
     * Values of the Kubernetes Secrets the functions name in `secrets`: name -> key -> value.
     * Values are treated as secrets.
     * @default {}
     */
    readonly functionSecrets?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
    /**
     * Sovereign volumes; a function mounts those that list it.
     * @default []
     */
    readonly volumes?: readonly SovereignVolume[];
    /**
     * What creates the volumes' host directories; only functions that mount a volume wait for it.
     * @default undefined
     */
    readonly volumeDependency?: pulumi.Resource;
    /**
     * Where the functions came from, for messages (the stack file's name).
     * @default "functions"
     */
    readonly source?: string;
    /**
     * Whether `pulumi up` waits for each function to be Ready. `false` sets the Kubernetes
     * provider's `pulumi.com/skipAwait` annotation on the Deployments and Services (for images
     * that arrive later, or a cluster without nodes that validates objects only).
     * @default true
     */
    readonly waitForReady?: boolean;
    /**
     * Network policies for the functions' namespace: default deny, DNS, the gateway, and what each
     * function declares in its `sovereign-faas.io/egress` annotation, plus `egress` for all.
     * Undefined: no policies (the pack's egress-default-deny rule then fails the namespace).
     */
    readonly network?: { readonly egress?: readonly EgressDestination[] };
}

/** Each function's declared destinations (its sovereign-faas.io/egress annotation), with the problems. */
export function functionEgress(functions: readonly FunctionSpec[], source: string): { egress: Record<string, EgressDestination[]>; problems: Problems } {
    const problems = new Problems();
    const egress: Record<string, EgressDestination[]> = {};
    for (const fn of functions) {
        const value = fn.annotations[EGRESS_ANNOTATION];
        if (value === undefined) {
            continue;
        }
        const key = `${source}: functions.${fn.name}.annotations.${EGRESS_ANNOTATION}`;
        const parsed = parseEgressAnnotation(value);
        for (const p of parsed.problems) {
            problems.add(key, value, p, "write destinations as <cidr>=<port>[,<port>][/udp], separated by spaces, e.g. 203.0.113.0/24=443");
        }
        problems.addAll(egressDestinationProblems(parsed.destinations, key).map((p) => ({ ...p, key })));
        egress[fn.name] = parsed.destinations;
    }
    return { egress, problems };
}

/**
 * stack.yml `constraints` become a function's nodeSelector: one that names the jurisdiction or
 * region labels must name the platform's own location, or it pins the function elsewhere (to no
 * node here, or to a node of another jurisdiction that joins later).
 */
export function locationConstraintProblems(functions: readonly FunctionSpec[], location: Location, source: string): Problems {
    const problems = new Problems();
    const own = locationLabels(location);
    for (const fn of functions) {
        for (const [label, value] of Object.entries(fn.nodeSelector)) {
            if (Object.prototype.hasOwnProperty.call(own, label) && own[label] !== value) {
                problems.add(
                    `${source}: functions.${fn.name}.constraints`,
                    `${label} == ${value}`,
                    `pins the function to ${label} ${value}, but this platform's node is ${own[label]}: it would run on no node here, or on a node of another jurisdiction`,
                    `remove the constraint (the platform pins functions to ${own[label]} itself), or set it to ${own[label]}`,
                );
            }
        }
    }
    return problems;
}

/** The Kubernetes provider's annotation that skips its readiness wait (pulumi-kubernetes pkg/metadata/overrides.go). */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/**
 * Everything a set of functions must satisfy on a platform, checked before anything exists: the
 * edition's limits, the known queues and topics, timeouts that fit the gateway's and the queue's,
 * Secrets with values, and a namespace whose Pod Security level admits hostPath volumes.
 */
export function validateFunctionsArgs(args: Pick<FunctionsArgs, "functions" | "features" | "functionSecrets" | "volumes" | "source" | "network"> & { readonly location?: Location }): Problems {
    const source = args.source ?? "functions";
    const problems = new Problems();
    problems.addAll(functionEgress(args.functions, source).problems.items);
    problems.addAll(egressDestinationProblems(args.network?.egress ?? [], "network.egress"));
    if (args.location !== undefined) {
        problems.addAll(locationConstraintProblems(args.functions, args.location, source).items);
    }
    problems.addAll(validateFunctionsForEdition(args.functions, args.features, source).items);
    const f = args.features;
    problems.addAll(
        validateFunctionTimeouts(
            args.functions,
            {
                gatewaySeconds: f.gatewayTimeoutSeconds,
                ackWaitSeconds: f.ackWaitSeconds ?? f.gatewayTimeoutSeconds,
                queues: { ...Object.fromEntries(f.queueNames.map((q) => [q, f.gatewayTimeoutSeconds])), ...(f.queueTimeouts ?? {}) },
            },
            source,
        ).items,
    );
    const secrets = args.functionSecrets ?? {};
    for (const s of [...new Set(args.functions.flatMap((fn) => fn.secrets))].sort()) {
        if (secrets[s] === undefined) {
            problems.add(`${source}: secrets`, s, `is named by ${args.functions.filter((fn) => fn.secrets.includes(s)).map((fn) => fn.name).join(", ")} but has no values`, "pass its keys and values in functionSecrets (sovereign-faas:functionSecrets in the program)");
        }
    }
    const enforce = f.functionNamespaceEnforce ?? "restricted";
    const mounting = (args.volumes ?? []).filter((v) => v.functions.length > 0);
    if (mounting.length > 0 && enforce !== "privileged") {
        problems.add(
            `${source}: volumes`,
            mounting.map((v) => v.name),
            `mount hostPath directories, which Pod Security ${enforce} forbids (pod-security-admission check_hostPathVolumes, baseline and up): the namespace would refuse every such pod`,
            "create OpenFaas with hostPathVolumes: true, so the functions' namespace enforces privileged (the policy pack checks each hostPath instead)",
        );
    }
    return problems;
}

/**
 * Functions from a stack.yml as plain Deployments and Services in openfaas-fn — what faas-netes
 * creates itself — so `pulumi up` owns them declaratively on CE and Pro alike.
 */
export class Functions extends pulumi.ComponentResource {
    /** Function names, sorted. */
    readonly names: string[];

    constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before super(): nothing is registered when the arguments are wrong.
        validateFunctionsArgs(args).throwIfAny(`Functions ${name}: invalid arguments`);
        super("sovereign-faas:functions:Functions", name, {}, opts);
        const secrets = args.functionSecrets ?? {};
        const base = childOptions(this, opts, { provider: args.provider });
        const skipAwait: Record<string, string> = args.waitForReady === false ? { [SKIP_AWAIT_ANNOTATION]: "true" } : {};
        const extraLabels = args.features.edition === "pro" && args.features.scaleToZero.enabled ? scaleToZeroLabels(args.features.scaleToZero.defaultIdleDurationSeconds) : {};
        const volumesByFunction = new Map<string, SovereignVolume[]>();
        for (const v of args.volumes ?? []) {
            for (const f of v.functions) {
                volumesByFunction.set(f, [...(volumesByFunction.get(f) ?? []), v]);
            }
        }
        const secretResources = new Map<string, k8s.core.v1.Secret>();
        for (const secretName of [...new Set(args.functions.flatMap((f) => f.secrets))].sort()) {
            const data = Object.fromEntries(Object.entries(secrets[secretName]).map(([k, v]) => [k, pulumi.secret(v)]));
            secretResources.set(
                secretName,
                new k8s.core.v1.Secret(`${name}-secret-${secretName}`, { metadata: { name: secretName, namespace: FUNCTION_NAMESPACE }, type: "Opaque", stringData: data }, base),
            );
        }
        for (const fn of args.functions) {
            const volumes = volumesByFunction.get(fn.name) ?? [];
            const deployment = renderFunctionDeployment(fn, { extraLabels, volumes, location: args.location, objectAnnotations: skipAwait });
            // A function waits for its Secrets, and for the host directories of the volumes it mounts.
            const deps: pulumi.Resource[] = fn.secrets.map((s) => secretResources.get(s) as k8s.core.v1.Secret);
            if (volumes.length > 0 && args.volumeDependency !== undefined) {
                deps.push(args.volumeDependency);
            }
            new k8s.apps.v1.Deployment(
                `${name}-${fn.name}`,
                deployment as unknown as k8s.apps.v1.DeploymentArgs,
                childOptions(this, opts, { provider: args.provider, ignoreChanges: [...FUNCTION_DEPLOYMENT_IGNORE_CHANGES], ...(deps.length > 0 ? { dependsOn: deps } : {}) }),
            );
            new k8s.core.v1.Service(`${name}-${fn.name}-svc`, renderFunctionService(fn, skipAwait) as unknown as k8s.core.v1.ServiceArgs, base);
        }
        if (args.network !== undefined) {
            const policies = renderFunctionNetworkPolicies({ location: args.location, functionEgress: functionEgress(args.functions, args.source ?? "functions").egress, globalEgress: args.network.egress ?? [] });
            registerNetworkPolicies(`${name}-netpol`, policies, base);
        }
        this.names = args.functions.map((f) => f.name).sort();
        this.registerOutputs({ names: this.names });
    }
}
