/**
 * The one way this library runs something on the host: a `remote.Command` whose script runs on
 * create and, in place, on update. It never carries `triggers`.
 *
 * Why: `@pulumi/command` adds `replaceOnChanges: ["triggers[*]"]` to every remote Command
 * (node_modules/@pulumi/command/remote/command.js), and a replacement is create-before-delete:
 * the new resource's `create` runs, then the old resource's `delete`. A step whose delete
 * uninstalls K3s would uninstall the cluster it had just upgraded. Without triggers, a changed
 * script is a changed `create`/`update` input, which the provider applies as an update: it runs
 * `update` (CommandArgs.update: "If empty, the create command will be executed instead").
 *
 * Stacks deployed before this change hold `triggers: [<hash>]` in their state. Removing them is
 * itself a change of `triggers[0]`, which would replace every step once; `ignoreChanges:
 * ["triggers"]` makes the engine keep the old value instead, so the upgrade is an update.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

import { remoteInvocation } from "./script";

/** The connection settings every remote step uses: the same object, secret as a whole. */
export type Connection = pulumi.Output<command.types.input.remote.ConnectionArgs>;

/** Every remote step ignores `triggers`: see the module comment (the migration from triggered steps). */
export const REMOTE_STEP_IGNORE_CHANGES = ["triggers"] as const;

export interface RemoteStepArgs {
    readonly connection: Connection;
    /** SSH user; scripts run through `sudo -n` when it is not root. */
    readonly user: string;
    /** The step's name, e.g. `kernel`; the invocation ends with `sovereign-faas-<step>`. */
    readonly step: string;
    /** The rendered script (see `renderScript`). */
    readonly script: string;
    /**
     * A script to run when the resource is deleted (`pulumi destroy`, or a step removed from the
     * program). Only for steps whose removal must undo something on the host.
     * @default undefined: deleting the resource leaves the host as it is
     */
    readonly deleteScript?: { readonly step: string; readonly script: string };
    /**
     * Secret material for the script's standard input, never its command line: an SSH exec
     * request's command string is visible in /proc/<pid>/cmdline to every local user.
     * @default undefined
     */
    readonly stdin?: pulumi.Input<string>;
    /**
     * What the provider logs; `stderr` when stdout carries a credential.
     * @default the provider's default (stdout and stderr)
     */
    readonly logging?: "stderr" | "stdout" | "stdoutAndStderr" | "none";
}

/** The inputs of a remote step: the script on create and update, an optional delete, no triggers. */
export function remoteStepInputs(args: RemoteStepArgs): command.remote.CommandArgs {
    const invocation = remoteInvocation(args.script, args.user, args.step);
    return {
        connection: args.connection,
        create: invocation,
        update: invocation,
        ...(args.deleteScript !== undefined ? { delete: remoteInvocation(args.deleteScript.script, args.user, args.deleteScript.step) } : {}),
        ...(args.stdin !== undefined ? { stdin: pulumi.secret(args.stdin) } : {}),
        ...(args.logging !== undefined ? { logging: args.logging } : {}),
    };
}

/** Creates a remote step (see the module comment). `opts` come from `childOptions`. */
export function remoteStep(name: string, args: RemoteStepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const ignoreChanges = [...new Set([...(opts.ignoreChanges ?? []), ...REMOTE_STEP_IGNORE_CHANGES])];
    return new command.remote.Command(name, remoteStepInputs(args), { ...opts, ignoreChanges });
}
