// The pack's entry point: constructing PolicyPack starts CrossGuard's gRPC server, so this file does only that.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./crossguard";

new PolicyPack("sovereign-faas-norway", { policies });
