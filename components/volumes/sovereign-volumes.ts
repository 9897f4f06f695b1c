import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { Connection } from "../host/connection";
import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { renderVolumeScript } from "./script";
import { DEFAULT_SOVEREIGN_ROOTS, SovereignVolume } from "./volumes";

/** What an auditor needs about one volume: where it is and who reads it. */
export interface VolumeRecord {
    readonly name: string;
    readonly host: string;
    readonly hostPath: string;
    readonly mountPath: string;
    readonly jurisdiction: string;
    readonly region: string;
    readonly readOnly: boolean;
    readonly functions: readonly string[];
}

export interface SovereignVolumesArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through sudo when it is not root. */
    readonly user: string;
    /** The host, as configured (recorded in the outputs). */
    readonly host: string;
    readonly location: Location;
    /** Validated volumes (see `validateVolumes`). */
    readonly volumes: readonly SovereignVolume[];
    /**
     * Allowed roots, re-checked on the host after resolving symlinks.
     * @default ["/data/sovereign"] (DEFAULT_SOVEREIGN_ROOTS)
     */
    readonly sovereignRoots?: readonly string[];
}

/**
 * Creates the sovereign data directories on the host (owner, mode 0700, no symlink escapes)
 * and reports whether each is encrypted and on NVMe. Workloads that mount a volume depend on
 * this component, so the directory exists before the pod does (hostPath type Directory fails
 * rather than silently creating an empty one).
 */
export class SovereignVolumes extends pulumi.ComponentResource {
    /** Per volume: host, path, jurisdiction, region and the functions mounting it. */
    readonly volumes: VolumeRecord[];
    /** The command, for `dependsOn`; undefined when there are no volumes. */
    readonly command?: command.remote.Command;

    constructor(name: string, args: SovereignVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sovereign-faas:volumes:SovereignVolumes", name, {}, opts);
        this.volumes = args.volumes.map((v) => ({
            name: v.name,
            host: args.host,
            hostPath: v.hostPath,
            mountPath: v.mountPath,
            jurisdiction: args.location.country,
            region: args.location.region,
            readOnly: v.readOnly,
            functions: v.functions,
        }));
        if (args.volumes.length > 0) {
            const script = renderVolumeScript(args.volumes, args.location, args.sovereignRoots ?? DEFAULT_SOVEREIGN_ROOTS);
            this.command = remoteStep(`${name}-dirs`, { connection: args.connection, user: args.user, step: "volumes", script }, childOptions(this, opts));
        }
        this.registerOutputs({ volumes: this.volumes });
    }
}
