export * from "./backups";
export * from "./render";
