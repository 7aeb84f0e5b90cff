// Collects every problem found in a stack's config, then fails once with all of them.

export interface Problem {
    /** The full config key, e.g. `portal:release.live`. */
    key: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: Problem[], heading = "") {
        super(heading + problems.map((p) => `${p.key} ${p.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

export class Problems {
    private readonly list: Problem[] = [];

    add(path: string, message: string): void {
        this.list.push({ key: `portal:${path}`, message });
    }

    get count(): number {
        return this.list.length;
    }

    throwIfAny(): void {
        if (this.list.length > 0) {
            throw new ConfigError(this.list);
        }
    }
}
