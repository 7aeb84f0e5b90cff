// The project's name, spelled once: the Pulumi project (Pulumi.yaml) and so the config
// namespace (`portal:`), the Portal component's name and the prefix of its resource names
// (`portal-release-stamp`), the main track's nginx prefix (`portal_blue`, `$portal_live`) and
// compose project (`portal-blue`), and the prefix of other tracks' compose projects
// (`portal-py3`). No imports: every module may read it while the others still load.

export const PROJECT = "portal";
