// ESLint: typescript-eslint's recommended type-aware rules plus Pulumi's rules against
// Outputs in template literals (they render as a warning text, not the value).
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: ["node_modules/**", "dist/**", "out/**", "bench/out/**", "coverage/**", "examples/**", "policies/node_modules/**", "**/*.js", "**/*.mjs"],
    },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: {
                projectService: true,
                tsconfigRootDir: import.meta.dirname,
            },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
            "no-console": ["error", { allow: ["error", "warn"] }],
            eqeqeq: "error",
        },
    },
    {
        // Tests walk deep JSON plans; typing every level would hide the assertion.
        files: ["tests/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
