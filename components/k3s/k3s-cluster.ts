import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { Connection } from "../host/connection";
import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { Problems } from "../shared/validation";
import { DEFAULT_K3S_VERSION, kubeconfigClientCertificateExpiry, renderK3sConfig, renderK3sSecretDropIn, rewriteKubeconfigServer } from "./config";
import { K3sArgValue, k3sArgsProblems } from "./flags";
import {
    DEFAULT_READY_TIMEOUT_SECONDS,
    renderK3sInstallScript,
    renderK3sUninstallScript,
    renderKubeconfigScript,
} from "./install";

export interface K3sClusterArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through sudo when it is not root. */
    readonly user: string;
    /** The address clients use for the API (added to its certificate). */
    readonly host: string;
    readonly location: Location;
    /**
     * The pinned K3s release. Changing it upgrades in place.
     * @default "v1.33.5+k3s1" (DEFAULT_K3S_VERSION)
     */
    readonly version?: string;
    /**
     * Release channel passed to the installer; the pinned version wins over it.
     * @default undefined
     */
    readonly channel?: string;
    /**
     * Install from a pre-staged binary, installer and images (no download).
     * @default false
     */
    readonly airgap?: boolean;
    /**
     * Extra K3s config.yaml keys: flags of `k3s server` by their full names (see flags.ts for the
     * keys sovereign-faas manages, refuses, or accepts only as secrets).
     * @default {}
     */
    readonly extraArgs?: Readonly<Record<string, K3sArgValue>>;
    /**
     * K3s flags whose values are secret (e.g. `token`): written to a 0600 drop-in from the install
     * step's standard input, never into its script, the state's plain inputs or a command line.
     * @default {}
     */
    readonly secretArgs?: Readonly<Record<string, pulumi.Input<K3sArgValue>>>;
    /**
     * Whether deleting this component (`pulumi destroy`, or removing it from the program) runs
     * `k3s-uninstall.sh`, which removes K3s and its datastore under /var/lib/rancher. Off by
     * default: a destroy leaves K3s and its data on the host, and only an explicit `true` deletes
     * them. Sovereign volumes live outside /var/lib/rancher either way.
     * @default false
     */
    readonly uninstallOnDestroy?: boolean;
    /**
     * Seconds to wait for the node to become Ready.
     * @default 300 (DEFAULT_READY_TIMEOUT_SECONDS)
     */
    readonly readyTimeoutSeconds?: number;
}

/** Every problem of a cluster's arguments, before anything is created: its flags, plain and secret. */
export function validateK3sClusterArgs(args: Pick<K3sClusterArgs, "extraArgs" | "secretArgs">): Problems {
    const problems = new Problems();
    problems.addAll(k3sArgsProblems(args.extraArgs ?? {}, "extraArgs"));
    const secret = args.secretArgs ?? {};
    // Values that are Outputs are checked by name only here; the program checks their plain text first.
    const view = Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, pulumi.Output.isInstance(v) || v instanceof Promise ? undefined : v]));
    problems.addAll(k3sArgsProblems(view, "secretArgs", new Set(Object.keys(secret))));
    for (const k of Object.keys(secret).filter((k) => Object.prototype.hasOwnProperty.call(args.extraArgs ?? {}, k))) {
        problems.add(`secretArgs.${k}`, "[secret]", "is given twice, in extraArgs and secretArgs", "keep it in one of them");
    }
    return problems;
}

/** Days before the kubeconfig's client certificate expires from which every run warns. */
export const KUBECONFIG_EXPIRY_WARNING_DAYS = 30;

/**
 * The provider's clusterIdentifier: the cluster on this host. pulumi-kubernetes replaces a
 * provider, and with it every object it manages, when its kubeconfig is unknown during preview,
 * "unless clusterIdentifier is set and unchanged" (provider/pkg/provider/provider.go DiffConfig).
 * Another host is another cluster, so the identifier changes with it, and only with it.
 */
export function clusterIdentifier(host: string): string {
    return `sovereign-faas/k3s@${host}`;
}

/**
 * A single-node K3s cluster on the host: the pinned version installed with its flags in
 * config.yaml, the kubeconfig fetched as a secret, and a Kubernetes provider built from it.
 * Kernel tuning must come first (protect-kernel-defaults): pass it in `dependsOn`.
 */
export class K3sCluster extends pulumi.ComponentResource {
    /** The admin kubeconfig, server rewritten to https://<host>:6443. Secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** A provider for everything that runs in the cluster. */
    readonly provider: k8s.Provider;
    /** The rendered config.yaml. */
    readonly config: string;
    /** The installed version. */
    readonly version: string;
    /** The install command, for `dependsOn`. */
    readonly install: command.remote.Command;
    /** When the kubeconfig's client certificate expires (ISO 8601), or "" when it has none. */
    readonly kubeconfigExpiresAt: pulumi.Output<string>;

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        validateK3sClusterArgs(args).throwIfAny(`K3sCluster ${name}: invalid arguments`);
        super("sovereign-faas:k3s:K3sCluster", name, {}, opts);
        this.version = args.version ?? DEFAULT_K3S_VERSION;
        this.config = renderK3sConfig({ host: args.host, location: args.location, extraArgs: args.extraArgs });
        const secretArgs = Object.entries(args.secretArgs ?? {});
        const script = renderK3sInstallScript({
            location: args.location,
            version: this.version,
            config: this.config,
            airgap: args.airgap ?? false,
            channel: args.channel,
            readyTimeoutSeconds: args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
            ...(typeof args.extraArgs?.["node-name"] === "string" ? { nodeName: args.extraArgs["node-name"] } : {}),
            secretDropIn: secretArgs.length > 0,
        });
        this.install = remoteStep(
            `${name}-install`,
            {
                connection: args.connection,
                user: args.user,
                step: "k3s",
                script,
                ...(secretArgs.length > 0
                    ? { stdin: pulumi.secret(pulumi.all(Object.fromEntries(secretArgs)).apply((values) => renderK3sSecretDropIn(values as Record<string, K3sArgValue>))) }
                    : {}),
                ...(args.uninstallOnDestroy === true ? { deleteScript: { step: "k3s-uninstall", script: renderK3sUninstallScript(args.location) } } : {}),
            },
            childOptions(this, opts),
        );
        // The kubeconfig is read once, when the step is created, and kept in the state. Re-reading it
        // on an upgrade would make it unknown while the engine previews, and an unknown kubeconfig
        // makes the provider plan its own replacement and that of every object in the cluster
        // (clusterIdentifier prevents that only once it is in the state: stacks of program 0.1 have
        // none). `ignoreChanges` keeps the step's first script: a change to it never re-runs it.
        // To re-read it (a renewed client certificate): pulumi up --replace <this step's URN>.
        const fetch = remoteStep(
            `${name}-kubeconfig`,
            {
                connection: args.connection,
                user: args.user,
                step: "kubeconfig",
                script: renderKubeconfigScript(args.location),
                // Only stderr goes to the log: stdout is the cluster-admin credential.
                logging: "stderr",
            },
            childOptions(this, opts, { additionalSecretOutputs: ["stdout"], dependsOn: [this.install], ignoreChanges: ["create", "update"] }),
        );
        this.kubeconfig = pulumi.secret(fetch.stdout.apply((text) => rewriteKubeconfigServer(text, args.host)));
        this.kubeconfigExpiresAt = pulumi.all([pulumi.unsecret(fetch.stdout), fetch.urn]).apply(([text, urn]) => {
            const expiry = kubeconfigClientCertificateExpiry(text);
            if (expiry === undefined) {
                return "";
            }
            const days = Math.floor((expiry.getTime() - Date.now()) / 86_400_000);
            if (days <= KUBECONFIG_EXPIRY_WARNING_DAYS) {
                void pulumi.log.warn(
                    `the kubeconfig in this stack's state ${days < 0 ? "expired" : `expires in ${days} day(s)`}, on ${expiry.toISOString()}: K3s renews its certificates when it starts within 90 days of expiry, but not the stack's copy. Restart K3s on the host if it has not renewed, then re-read it: pulumi up --replace '${urn}'`,
                    this,
                );
            }
            return expiry.toISOString();
        });
        this.provider = new k8s.Provider(
            `${name}-provider`,
            { kubeconfig: this.kubeconfig, clusterIdentifier: clusterIdentifier(args.host) },
            { parent: this, dependsOn: [fetch] },
        );
        this.registerOutputs({ kubeconfig: this.kubeconfig, kubeconfigExpiresAt: this.kubeconfigExpiresAt, version: this.version });
    }
}
