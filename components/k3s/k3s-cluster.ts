import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { Connection } from "../host/connection";
import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { contentHash } from "../shared/script";
import { DEFAULT_K3S_VERSION, renderK3sConfig, rewriteKubeconfigServer } from "./config";
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
     * Extra K3s config.yaml keys. The keys sovereign-faas manages cannot be overridden.
     * @default {}
     */
    readonly extraArgs?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
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

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sovereign-faas:k3s:K3sCluster", name, {}, opts);
        this.version = args.version ?? DEFAULT_K3S_VERSION;
        this.config = renderK3sConfig({ host: args.host, location: args.location, extraArgs: args.extraArgs });
        const script = renderK3sInstallScript({
            location: args.location,
            version: this.version,
            config: this.config,
            airgap: args.airgap ?? false,
            channel: args.channel,
            readyTimeoutSeconds: args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
            ...(typeof args.extraArgs?.["node-name"] === "string" ? { nodeName: args.extraArgs["node-name"] } : {}),
        });
        this.install = remoteStep(
            `${name}-install`,
            {
                connection: args.connection,
                user: args.user,
                step: "k3s",
                script,
                ...(args.uninstallOnDestroy === true ? { deleteScript: { step: "k3s-uninstall", script: renderK3sUninstallScript(args.location) } } : {}),
            },
            childOptions(this, opts),
        );
        // Re-read after every install or upgrade: the script names the install script's hash, so a
        // changed install changes this step's input too, and it runs again as an update.
        const fetch = remoteStep(
            `${name}-kubeconfig`,
            {
                connection: args.connection,
                user: args.user,
                step: "kubeconfig",
                script: renderKubeconfigScript(args.location, contentHash(script)),
                // Only stderr goes to the log: stdout is the cluster-admin credential.
                logging: "stderr",
            },
            childOptions(this, opts, { additionalSecretOutputs: ["stdout"], dependsOn: [this.install] }),
        );
        this.kubeconfig = pulumi.secret(fetch.stdout.apply((text) => rewriteKubeconfigServer(text, args.host)));
        this.provider = new k8s.Provider(
            `${name}-provider`,
            { kubeconfig: this.kubeconfig },
            { parent: this, dependsOn: [fetch] },
        );
        this.registerOutputs({ kubeconfig: this.kubeconfig, version: this.version });
    }
}
