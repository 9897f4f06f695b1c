/**
 * Records every resource a program registers under Pulumi mocks, as the plan's
 * `{ type, name, parent, inputs, dependsOn }` objects. Secrets are recorded as "[secret]"
 * straight from the wire format, so nothing secret can leak into a plan file or a test snapshot.
 * The same recorder serves `npm run plan` and the jest tests.
 */
import * as pulumi from "@pulumi/pulumi";

import { planMocks } from "./mocks";

/** One registered resource, as written to resources.json. */
export interface ResourceRecord {
    readonly type: string;
    readonly name: string;
    /** The parent's name, or null for the stack itself. */
    readonly parent: string | null;
    readonly inputs: Record<string, unknown>;
    /** Names of the resources this one waits for (explicit dependsOn and input dependencies). */
    readonly dependsOn: string[];
    /** Whether the resource is a provider resource (true) or a component (false). */
    readonly custom: boolean;
}

export const SECRET_MARK = "[secret]";
export const UNKNOWN_MARK = "[unknown]";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The name part of a URN (`urn:pulumi:stack::project::type::name`). */
export function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Converts wire-format property values to plan values: secrets and unknowns marked, references by name. */
export function planValue(value: unknown): unknown {
    if (value === UNKNOWN_VALUE) {
        return UNKNOWN_MARK;
    }
    if (Array.isArray(value)) {
        return value.map(planValue);
    }
    if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) {
            return SECRET_MARK;
        }
        if (obj[SIG_KEY] === RESOURCE_SIG) {
            return typeof obj.urn === "string" ? nameOfUrn(obj.urn) : UNKNOWN_MARK;
        }
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, planValue(v)]));
    }
    return value;
}

/** A provider reference is `<urn>::<id>`; default providers (no reference) are left out. */
function providerUrn(ref: string): string[] {
    if (!ref || ref.includes("::default_")) {
        return [];
    }
    return [ref.slice(0, ref.lastIndexOf("::"))];
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getProvider(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** A recording session. Create it before the program runs. */
export class Recorder {
    readonly records: ResourceRecord[] = [];

    /** Installs the mocks and the recording hook. `preview` mirrors `pulumi preview`. */
    static async start(opts: { project: string; stack: string; preview?: boolean; mocks?: pulumi.runtime.Mocks }): Promise<Recorder> {
        const recorder = new Recorder();
        await pulumi.runtime.setMocks(opts.mocks ?? planMocks, opts.project, opts.stack, opts.preview ?? true);
        const monitor = pulumi.runtime.getMonitor() as unknown as {
            registerResource(req: RegisterRequest, cb: unknown): Promise<void>;
        };
        const original = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: RegisterRequest, cb: unknown): Promise<void> => {
            recorder.records.push({
                type: req.getType(),
                name: req.getName(),
                parent: req.getParent() ? nameOfUrn(req.getParent()) : null,
                inputs: planValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
                // The provider is an ordering edge too: nothing in the cluster exists before it.
                dependsOn: [...new Set([...req.getDependenciesList(), ...providerUrn(req.getProvider())].map(nameOfUrn))].sort(),
                custom: req.getCustom(),
            });
            return original(req, cb);
        };
        return recorder;
    }

    /** Waits until every registration the program started has reached the mocks. */
    async settle(): Promise<void> {
        // waitForRPCs is the SDK's own "wait for the queue to drain" (used by disconnect); it is
        // exported from the settings module but not declared in the public typings.
        const settings = (await import("@pulumi/pulumi/runtime/settings")) as unknown as { waitForRPCs(): Promise<void> };
        await settings.waitForRPCs();
    }

    /** Records of one type, in registration order. */
    ofType(type: string): ResourceRecord[] {
        return this.records.filter((r) => r.type === type);
    }

    /** The record with this name; throws when there is not exactly one. */
    byName(name: string): ResourceRecord {
        const found = this.records.filter((r) => r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected one resource named ${name}, found ${found.length}`);
        }
        return found[0];
    }
}
