// Entry point of the Pulumi program (see program.ts). Bad config stops it before any
// resource is declared, with a message naming every bad key; so does a change the live
// guard refuses. An exported async function: @pulumi/pulumi@3.248.0 cmd/run/run.js calls it
// and awaits the stack outputs it returns.

import { guardedProgram } from "./program";

export = async () => {
    const outputs = await guardedProgram();
    return {
        stage: outputs.stage,
        servers: outputs.servers,
        /** Other tracks (side-by-side generations); absent from a single-track stack's outputs. */
        tracks: Object.keys(outputs.tracks).length > 0 ? outputs.tracks : undefined,
        /** Read back by the next update's live guard. */
        deployed: outputs.deployed,
    };
};
