/**
 * `npm run plan -- --stack <name> [--out <dir>]`
 * Exit 0: fine. 1: a mandatory policy failed. 2: invalid config or input (message on stderr).
 */
import { EXIT_INVALID, runPlan } from "./run-plan";

function usage(message: string): never {
    process.stderr.write(`${message}\nusage: npm run plan -- --stack <name> [--out <dir>] [--policy-pack-config <file>] [--dir <project>]\n`);
    process.exit(EXIT_INVALID);
}

function parseArgs(argv: string[]): { stack: string; out?: string; policyConfig?: string; dir?: string } {
    let stack: string | undefined;
    let dir: string | undefined;
    let out: string | undefined;
    let policyConfig: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined || v.startsWith("--")) {
                usage(`${flag} needs a value`);
            }
            return v;
        };
        if (flag === "--stack" || flag === "-s") {
            stack = value();
        } else if (flag === "--out") {
            out = value();
        } else if (flag === "--dir") {
            dir = value();
        } else if (flag === "--policy-pack-config") {
            policyConfig = value();
        } else {
            usage(`unknown argument ${arg}`);
        }
    }
    if (stack === undefined) {
        usage("--stack is required");
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        usage(`--stack ${JSON.stringify(stack)} is not a stack name`);
    }
    return { stack, out, policyConfig, dir };
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const result = await runPlan(args);
    for (const w of result.warnings ?? []) {
        process.stderr.write(`warning: ${w}\n`);
    }
    if (result.message !== undefined) {
        process.stderr.write(`${result.message}\n`);
    } else {
        const advisory = result.violations.length;
        process.stdout.write(
            `plan for stack ${args.stack}: ${result.resources.length} resources, ${advisory} advisory policy finding(s) -> ${result.outDir}\n`,
        );
    }
    process.exit(result.exitCode);
}

main().catch((err: unknown) => {
    // Not an input problem: a bug. Show everything.
    console.error(err);
    process.exit(3);
});
