// The pack's entry point: constructing PolicyPack starts CrossGuard's gRPC server, so this file does only that,
// after the guard that refuses a config with unknown policies or settings (see guardConfigure).
import { PolicyPack } from "@pulumi/policy";
import { guardConfigure, policies } from "./crossguard";

// The gRPC module @pulumi/policy serves with (its own dependency, resolved from it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
guardConfigure(require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/policy")] })).Server);
new PolicyPack("sovereign-faas-norway", { policies });
