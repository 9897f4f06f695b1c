/**
 * The Pulumi nodejs language host compiles a TypeScript program with ts-node, and when the project
 * has no tsconfig.json it uses its own defaults (@pulumi/pulumi cmd/run/run.js: target ES2020,
 * module and moduleResolution nodenext on TypeScript >= 4.7, no `strict`). The engine tier found
 * library code that type-checked under our strict tsconfig and failed there (a boolean
 * discriminant does not narrow without strictNullChecks). Every program that imports the
 * library from source must compile under those defaults too.
 */
import * as path from "path";
import * as ts from "typescript";

const REPO = path.join(__dirname, "..", "..");

describe("the library compiles under the language host's ts-node defaults", () => {
    it.each(["index.ts", "tests/engine/project/index.ts", "tests/engine/host/index.ts"])("%s", (entry) => {
        const program = ts.createProgram([path.join(REPO, entry)], {
            target: ts.ScriptTarget.ES2020,
            module: ts.ModuleKind.NodeNext,
            moduleResolution: ts.ModuleResolutionKind.NodeNext,
            sourceMap: true,
            skipLibCheck: true,
            noEmit: true,
            types: ["node"],
        });
        const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
            const where = d.file !== undefined && d.start !== undefined ? `${path.relative(REPO, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : "";
            return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        });
        expect(diagnostics).toEqual([]);
    }, 120_000);
});
