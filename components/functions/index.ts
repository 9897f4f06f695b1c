export * from "./edition-rules";
export * from "./envsubst";
export * from "./functions";
export * from "./manifests";
export * from "./stack-yml";
