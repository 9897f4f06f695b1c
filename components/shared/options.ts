import * as pulumi from "@pulumi/pulumi";

type DependsOn = pulumi.ResourceOptions["dependsOn"];

function asList(d: DependsOn): pulumi.Input<pulumi.Input<pulumi.Resource>[]>[] {
    if (d === undefined) {
        return [];
    }
    return [Array.isArray(d) ? d : pulumi.output(d as pulumi.Input<pulumi.Resource>).apply((r) => [r])];
}

/**
 * Options for a component's children. A component's `dependsOn` does not reach its children
 * in the engine (each registration carries its own dependencies), so a child that does work on
 * the host must be told to wait for the same things as its parent, or the ordering is lost.
 */
export function childOptions(
    parent: pulumi.Resource,
    opts: pulumi.ComponentResourceOptions | undefined,
    extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
    const lists = [...asList(opts?.dependsOn), ...asList(extra.dependsOn)];
    if (lists.length === 0) {
        return { ...extra, parent };
    }
    if (lists.every((l) => Array.isArray(l))) {
        return { ...extra, parent, dependsOn: (lists as pulumi.Input<pulumi.Resource>[][]).flat() };
    }
    return { ...extra, parent, dependsOn: pulumi.all(lists).apply((ls) => ls.flat() as pulumi.Resource[]) };
}
