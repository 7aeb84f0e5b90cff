// POSIX shell quoting and the command-as-data type every server-side step is built from.

const SAFE_WORD = /^[A-Za-z0-9_\/.:=@%+,-]+$/;

/** Quotes one word for a POSIX shell: plain words stay readable, anything else is single-quoted. */
export function quote(word: string): string {
    if (word.includes("\0")) {
        throw new Error("a shell word cannot contain NUL");
    }
    return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command as an argv list: printable, comparable in tests, and rendered to one quoted line to run. */
export class ShellCommand {
    constructor(readonly argv: readonly string[]) {
        if (argv.length === 0) {
            throw new Error("a command needs at least a program");
        }
    }

    toString(): string {
        return this.argv.map(quote).join(" ");
    }
}
