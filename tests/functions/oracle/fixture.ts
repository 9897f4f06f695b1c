/**
 * Joins the oracle's cases and its answers into tests/functions/fixtures/envsubst-oracle.json
 * (`--write`), or checks that file against a live run (`--check`: exit 1 and the differing case
 * ids). Called by run.sh with the oracle's stdout as the first argument.
 */
import * as fs from "fs";
import * as path from "path";

import { ENV, envFileCases, envsubstCases, stackCases, STACK_ENV } from "./cases";

export const FIXTURE = path.join(__dirname, "..", "fixtures", "envsubst-oracle.json");

interface OracleOutput {
    go: string;
    modules: Record<string, string>;
    envsubst: Array<{ id: string; ok: boolean; output?: string; outputBase64?: string; error?: string }>;
    stacks: Array<{ id: string; ok: boolean; stack?: unknown; error?: string }>;
    envFiles: Array<{ id: string; ok: boolean; environment?: Record<string, string>; error?: string }>;
}

function byId<T extends { id: string }>(list: T[], id: string): T {
    const found = list.find((x) => x.id === id);
    if (found === undefined) {
        throw new Error(`the oracle gave no answer for case ${id}`);
    }
    return found;
}

function strip<T extends { id: string }>(x: T): Omit<T, "id"> {
    const { id: _id, ...rest } = x;
    return rest;
}

export function compose(out: OracleOutput): Record<string, unknown> {
    const wanted = ["github.com/drone/envsubst", "github.com/openfaas/go-sdk", "gopkg.in/yaml.v3"];
    return {
        about: "Answers of the real Go code faas-cli 0.18.12 vendors (drone/envsubst, go-sdk stack parser, yaml.v3), produced by tests/functions/oracle/run.sh. Do not edit by hand: change tests/functions/oracle/cases.ts or fixtures/stacks/*.yml and run the script.",
        go: out.go,
        modules: Object.fromEntries(wanted.map((m) => [m, out.modules[m] ?? "(missing)"])),
        env: ENV,
        stackEnv: STACK_ENV,
        envsubst: envsubstCases().map((c) => ({
            id: c.id,
            ...(c.inputBase64 !== undefined ? { inputBase64: c.inputBase64 } : { input: c.input }),
            ...(c.env === ENV ? {} : { env: c.env }),
            expect: strip(byId(out.envsubst, c.id)),
        })),
        stacks: stackCases().map((c) => ({ id: c.id, text: c.text, expect: strip(byId(out.stacks, c.id)) })),
        envFiles: envFileCases().map((c) => ({ id: c.id, text: c.text, expect: strip(byId(out.envFiles, c.id)) })),
    };
}

function main(): void {
    const [outFile, mode] = process.argv.slice(2);
    const composed = compose(JSON.parse(fs.readFileSync(outFile, "utf8")) as OracleOutput);
    const text = `${JSON.stringify(composed, null, 2)}\n`;
    if (mode === "--write") {
        fs.writeFileSync(FIXTURE, text);
        process.stdout.write(`wrote ${path.relative(process.cwd(), FIXTURE)}\n`);
        return;
    }
    const committed = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as Record<string, unknown>;
    const differ: string[] = [];
    for (const section of ["envsubst", "stacks", "envFiles"] as const) {
        const live = composed[section] as Array<{ id: string }>;
        const old = committed[section] as Array<{ id: string }>;
        const ids = new Set([...live.map((c) => c.id), ...old.map((c) => c.id)]);
        for (const id of ids) {
            const a = live.find((c) => c.id === id);
            const b = old.find((c) => c.id === id);
            if (JSON.stringify(a) !== JSON.stringify(b)) {
                differ.push(`${section}:${id}`);
            }
        }
    }
    if (JSON.stringify(composed.modules) !== JSON.stringify(committed.modules)) {
        differ.push(`modules: live ${JSON.stringify(composed.modules)}, committed ${JSON.stringify(committed.modules)}`);
    }
    if (differ.length > 0) {
        process.stderr.write(`The oracle disagrees with ${path.relative(process.cwd(), FIXTURE)} on ${differ.length} case(s):\n  ${differ.join("\n  ")}\nRegenerate it with tests/functions/oracle/run.sh --write and review the diff.\n`);
        process.exit(1);
    }
    process.stdout.write(`the oracle (${String(composed.go)}) agrees with the committed fixture on every case\n`);
}

if (require.main === module) {
    main();
}
