import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { Connection, remoteStep } from "../shared/remote-step";
import { renderScript } from "../shared/script";

/** SSH user when none is given. */
export const DEFAULT_SSH_USER = "root";
/** SSH port when none is given. */
export const DEFAULT_SSH_PORT = 22;
/** Seconds for one dial attempt; a dead host fails after a few of these, not after minutes. */
export const DEFAULT_DIAL_TIMEOUT_SECONDS = 10;
/** Dial attempts before giving up on an unreachable host. */
export const DEFAULT_DIAL_ERROR_LIMIT = 3;

export interface SshConnectionArgs {
    /** IPv4, IPv6 address or DNS name of the host. */
    readonly host: string;
    /** The host's declared location; stamped into every script for the policy pack. */
    readonly location: Location;
    /**
     * SSH user. A user other than root needs passwordless sudo.
     * @default "root" (DEFAULT_SSH_USER)
     */
    readonly user?: string;
    /**
     * SSH port.
     * @default 22 (DEFAULT_SSH_PORT)
     */
    readonly port?: number;
    /** The private key (OpenSSH PEM). Always treated as a secret. */
    readonly privateKey: pulumi.Input<string>;
    /**
     * The host's public key (`ssh-ed25519 AAAA...`). When set, a host presenting another key is refused.
     * @default undefined: the host key is not checked (trust on first use is the operator's job)
     */
    readonly hostKey?: string;
}

export type { Connection };

/** Renders the connectivity probe: proves that login and root work before any step changes the host. */
export function renderProbeScript(location: Location): string {
    return renderScript({
        step: "connect",
        location,
        body: `log "connected to $(hostname) as $(id -un), kernel $(uname -r)"`,
    });
}

/** Builds the connection object; pure apart from wrapping it as a secret. */
export function buildConnection(args: SshConnectionArgs): Connection {
    return pulumi.secret(
        pulumi.output(args.privateKey).apply((privateKey) => {
            const conn: command.types.input.remote.ConnectionArgs = {
                host: args.host,
                port: args.port ?? DEFAULT_SSH_PORT,
                user: args.user ?? DEFAULT_SSH_USER,
                privateKey,
                perDialTimeout: DEFAULT_DIAL_TIMEOUT_SECONDS,
                dialErrorLimit: DEFAULT_DIAL_ERROR_LIMIT,
            };
            return args.hostKey === undefined ? conn : { ...conn, hostKey: args.hostKey };
        }),
    );
}

/**
 * An SSH connection to the host, proven by a probe command. Every later step depends on it, so a
 * wrong key or an unreachable host fails here, first and fast.
 */
export class SshConnection extends pulumi.ComponentResource {
    /** The connection settings, secret. Pass to the other host components. */
    readonly connection: Connection;
    /** The SSH user, needed to decide whether scripts run through sudo. */
    readonly user: string;
    /** The host, as configured. */
    readonly host: string;
    /** The host's declared location. */
    readonly location: Location;
    /** The probe's output (hostname, user, kernel). */
    readonly probe: pulumi.Output<string>;

    constructor(name: string, args: SshConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("sovereign-faas:host:SshConnection", name, {}, opts);
        this.user = args.user ?? DEFAULT_SSH_USER;
        this.host = args.host;
        this.location = args.location;
        this.connection = buildConnection(args);
        const probe = remoteStep(`${name}-probe`, { connection: this.connection, user: this.user, step: "connect", script: renderProbeScript(args.location) }, childOptions(this, opts));
        this.probe = probe.stdout;
        this.registerOutputs({ host: this.host, probe: this.probe });
    }
}
