#!/usr/bin/env node
/**
 * `npm run plan -- --stack <name>` here, `sovereign-faas-plan --stack <name> --dir <project>` as
 * the package's bin. Exit 0: fine. 1: a mandatory policy failed. 2: invalid config or input
 * (message on stderr, no stack trace). 3: a bug (the stack trace is printed; please report it).
 * Every exit prints one summary line on stdout.
 */
import { EXIT_BUG, EXIT_INVALID, PlanResult, runPlan, summaryLine } from "./run-plan";

export const USAGE = `usage: sovereign-faas-plan --stack <name> [--dir <project>] [--out <dir>] [--policy-pack-config <file>]

Runs a Pulumi project's program offline, under mocks, with the config of Pulumi.<name>.yaml, and
writes <out>/resources.json (every resource with its inputs and options, secrets as "[secret]"),
policy.json (the Norway-only policy pack's verdicts) and sovereignty-report.md/.json.

  --stack, -s <name>          the stack (Pulumi.<name>.yaml in the project)
  --dir <project>             the project directory with Pulumi.yaml (default: the current directory)
  --out <dir>                 where the files go (default: <project>/out/plan/<name>)
  --policy-pack-config <file> policy settings and levels, in the format of pulumi preview's flag
  --help, -h                  this text

Secure values are decrypted with PULUMI_CONFIG_PASSPHRASE (or _FILE) when set, as the CLI does;
otherwise they are placeholders the program treats as secrets.

exit codes: 0 planned, 1 a mandatory policy failed, 2 invalid config or input, 3 a bug`;

interface Args {
    stack: string;
    out?: string;
    policyConfig?: string;
    dir?: string;
}

function refuse(message: string, stack = "(none)"): never {
    process.stderr.write(`${message}\n${USAGE}\n`);
    process.stdout.write(`${summaryLine(stack, { exitCode: EXIT_INVALID, resources: [], violations: [], rulesPassed: 0, warnings: [] })}\n`);
    process.exit(EXIT_INVALID);
}

export function parseArgs(argv: readonly string[]): Args | "help" {
    let stack: string | undefined;
    const rest: Partial<Args> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") {
            return "help";
        }
        const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined || v.startsWith("--")) {
                refuse(`${flag} needs a value`);
            }
            return v;
        };
        if (flag === "--stack" || flag === "-s") {
            stack = value();
        } else if (flag === "--out") {
            rest.out = value();
        } else if (flag === "--dir") {
            rest.dir = value();
        } else if (flag === "--policy-pack-config") {
            rest.policyConfig = value();
        } else {
            refuse(`unknown argument ${JSON.stringify(arg)}`);
        }
    }
    if (stack === undefined) {
        refuse("--stack is required");
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        refuse(`--stack ${JSON.stringify(stack)} is not a stack name (letters, digits, '-', '_', '.')`);
    }
    return { stack, ...rest };
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    if (args === "help") {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    let result: PlanResult;
    try {
        result = await runPlan(args);
    } catch (err) {
        // Not an input problem: a bug. Show everything.
        console.error(err);
        process.stdout.write(`${summaryLine(args.stack, { exitCode: EXIT_BUG, resources: [], violations: [], rulesPassed: 0, warnings: [] })}\n`);
        process.exit(EXIT_BUG);
    }
    for (const w of result.warnings) {
        process.stderr.write(`warning: ${w}\n`);
    }
    if (result.message !== undefined) {
        process.stderr.write(`${result.message}\n`);
    }
    process.stdout.write(`${summaryLine(args.stack, result)}\n`);
    process.exit(result.exitCode);
}

if (require.main === module) {
    void main();
}
