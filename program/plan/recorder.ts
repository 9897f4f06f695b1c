/**
 * Records every resource a program registers under Pulumi mocks, as the plan's
 * `{ type, name, parent, inputs, dependsOn, inputDependencies, urn, options }` objects. Secrets are recorded as
 * "[secret]" straight from the wire format, so nothing secret can leak into a plan file or a test
 * snapshot. The options include those an SDK injects on its own (`@pulumi/command` adds
 * `replaceOnChanges: ["triggers[*]"]` to every remote Command), because those decide whether the
 * engine updates a resource in place or replaces it. The same recorder serves `npm run plan`,
 * the upgrade comparison and the jest tests.
 */
import * as pulumi from "@pulumi/pulumi";

import { planMocks } from "./mocks";

/** Resource options as the engine receives them (RegisterResourceRequest), normalised. */
export interface ResourceOptionsRecord {
    readonly additionalSecretOutputs: string[];
    /** Explicit aliases, each resolved to the URN it names (the engine's own parent inheritance is applied by the comparison). */
    readonly aliases: string[];
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: string[];
    readonly protect: boolean;
    /** The provider resource's name, or null for the default provider. */
    readonly provider: string | null;
    readonly replaceOnChanges: string[];
    readonly retainOnDelete: boolean;
}

/** One registered resource, as written to resources.json. */
export interface ResourceRecord {
    readonly type: string;
    readonly name: string;
    /** The parent's name, or null for the stack itself. */
    readonly parent: string | null;
    readonly inputs: Record<string, unknown>;
    /** Names of the resources this one waits for (explicit dependsOn and input dependencies). */
    readonly dependsOn: string[];
    /**
     * For each input, the names of the resources its value comes from (the request's
     * propertyDependencies). While the engine previews, an input that comes from a resource being
     * created, updated or replaced is unknown; the comparison uses this to see what a provider
     * decides on unknown inputs (a Kubernetes provider replaces on an unknown kubeconfig).
     */
    readonly inputDependencies: Record<string, string[]>;
    /** The URN the engine gives it: its parents' types joined by `$`, then its own. */
    readonly urn: string;
    readonly options: ResourceOptionsRecord;
    /** Whether the resource is a provider resource (true) or a component (false). */
    readonly custom: boolean;
    /**
     * The inputs with secrets in plain text, in memory only (never written to a file): the policy
     * rules judge secrets too, as CrossGuard does (it receives them unwrapped). Unknowns stay
     * "[unknown]". Not enumerable: JSON.stringify of a record never shows them.
     */
    readonly plainInputs: Record<string, unknown>;
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

/** The qualified type of a URN: `parentType$...$type`. */
export function qualifiedTypeOfUrn(urn: string): string {
    return urn.split("::")[2] ?? "";
}

/**
 * The URN the engine computes (sdk/go/common/resource/urn.go NewURN): the parent's whole
 * qualified type, `$`, the resource's type. The SDK's mock monitor keeps only the parent's last
 * type, so its URNs differ from the engine's for grandchildren; the plan uses the engine's.
 */
export function engineUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const parentType = parentUrn === undefined ? "" : qualifiedTypeOfUrn(parentUrn);
    const qualified = parentType === "" || parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The URN the SDK's mock monitor computes (runtime/mocks.js newUrn), to map its parent references. */
function mockUrn(stack: string, project: string, parent: string, type: string, name: string): string {
    const t = parent ? `${qualifiedTypeOfUrn(parent).split("$").pop()}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${t}::${name}`;
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

/** Wire-format values with secrets unwrapped (as CrossGuard sees them), references by name. */
export function plainValue(value: unknown): unknown {
    if (value === UNKNOWN_VALUE) {
        return UNKNOWN_MARK;
    }
    if (Array.isArray(value)) {
        return value.map(plainValue);
    }
    if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) {
            return plainValue(obj.value);
        }
        if (obj[SIG_KEY] === RESOURCE_SIG) {
            return typeof obj.urn === "string" ? nameOfUrn(obj.urn) : UNKNOWN_MARK;
        }
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plainValue(v)]));
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

/** The request's propertyDependencies as input name -> resource names, keys sorted. */
function inputDependencies(req: RegisterRequest): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        const names = [...new Set(deps.getUrnsList().map(nameOfUrn))].sort();
        if (names.length > 0) {
            out[key] = names;
        }
    });
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

interface AliasSpec {
    getName(): string;
    getType(): string;
    getStack(): string;
    getProject(): string;
    getParenturn(): string;
    getNoparent(): boolean;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getProvider(): string;
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getAliasesList(): Array<{ getUrn(): string; getSpec(): AliasSpec | undefined; hasSpec(): boolean }>;
    getAliasurnsList(): string[];
}

/** The SDK module whose runtime the recorder hooks: ours, or a consumer's own copy. */
export type PulumiSdk = Pick<typeof pulumi, "runtime">;

/** A recording session. Create it before the program runs. */
export class Recorder {
    readonly records: ResourceRecord[] = [];
    /** Mock URN -> engine URN, to resolve parent references. */
    private readonly urns = new Map<string, string>();

    private constructor(
        private readonly stack: string,
        private readonly project: string,
        private readonly waitForRPCs?: () => Promise<void>,
    ) {}

    /**
     * Installs the mocks and the recording hook. `preview` mirrors `pulumi preview`. `sdk` is the
     * @pulumi/pulumi the program registers with (a consumer's own copy), and `settle` that copy's
     * runtime/settings waitForRPCs.
     */
    static async start(opts: { project: string; stack: string; preview?: boolean; mocks?: pulumi.runtime.Mocks; sdk?: PulumiSdk; settle?: () => Promise<void> }): Promise<Recorder> {
        const recorder = new Recorder(opts.stack, opts.project, opts.settle);
        const sdk = opts.sdk ?? pulumi;
        await sdk.runtime.setMocks(opts.mocks ?? planMocks, opts.project, opts.stack, opts.preview ?? true);
        const monitor = sdk.runtime.getMonitor() as unknown as {
            registerResource(req: RegisterRequest, cb: unknown): Promise<void>;
        };
        const original = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: RegisterRequest, cb: unknown): Promise<void> => {
            recorder.record(req);
            return original(req, cb);
        };
        return recorder;
    }

    private record(req: RegisterRequest): void {
        const parentMock = req.getParent();
        const parentUrn = parentMock ? (this.urns.get(parentMock) ?? parentMock) : undefined;
        const urn = engineUrn(this.stack, this.project, parentUrn, req.getType(), req.getName());
        this.urns.set(mockUrn(this.stack, this.project, parentMock, req.getType(), req.getName()), urn);
        const provider = providerUrn(req.getProvider());
        const wire = req.getObject()?.toJavaScript() ?? {};
        const plainInputs = plainValue(wire) as Record<string, unknown>;
        this.records.push({
            type: req.getType(),
            name: req.getName(),
            parent: parentUrn ? nameOfUrn(parentUrn) : null,
            inputs: planValue(wire) as Record<string, unknown>,
            // The provider is an ordering edge too: nothing in the cluster exists before it.
            dependsOn: [...new Set([...req.getDependenciesList(), ...provider].map(nameOfUrn))].sort(),
            inputDependencies: inputDependencies(req),
            urn,
            options: {
                additionalSecretOutputs: [...new Set(req.getAdditionalsecretoutputsList())].sort(),
                aliases: this.aliasUrns(req, parentUrn),
                deleteBeforeReplace: req.getDeletebeforereplace(),
                ignoreChanges: [...req.getIgnorechangesList()].sort(),
                protect: req.getProtect(),
                provider: provider.length > 0 ? nameOfUrn(provider[0]) : null,
                replaceOnChanges: [...req.getReplaceonchangesList()].sort(),
                retainOnDelete: req.getRetainondelete(),
            },
            custom: req.getCustom(),
        } as ResourceRecord);
        // In memory only: not enumerable, so no JSON (resources.json, a snapshot, a log) ever holds them.
        const record = this.records[this.records.length - 1];
        Object.defineProperty(record, "plainInputs", { value: plainInputs, enumerable: false });
    }

    /** Each explicit alias as the URN it names; unset parts default to the resource's own (as the engine does). */
    private aliasUrns(req: RegisterRequest, parentUrn: string | undefined): string[] {
        const out = [...req.getAliasurnsList()];
        for (const alias of req.getAliasesList()) {
            const spec = alias.hasSpec() ? alias.getSpec() : undefined;
            if (spec === undefined) {
                out.push(alias.getUrn());
                continue;
            }
            const parent = spec.getNoparent() ? undefined : spec.getParenturn() ? (this.urns.get(spec.getParenturn()) ?? spec.getParenturn()) : parentUrn;
            out.push(engineUrn(spec.getStack() || this.stack, spec.getProject() || this.project, parent, spec.getType() || req.getType(), spec.getName() || req.getName()));
        }
        return [...new Set(out)].sort();
    }

    /** Waits until every registration the program started has reached the mocks. */
    async settle(): Promise<void> {
        if (this.waitForRPCs !== undefined) {
            return this.waitForRPCs();
        }
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
