import { startColorBackends } from "../support/backends";
import { startLoad, summarize } from "../support/load";
import { startRouting, live } from "./fixture";
import * as fs from "fs";
(async () => {
  const { blue, green } = await startColorBackends();
  for (const mode of ["reload", "state"] as const) {
    let t = Date.now();
    const r = await startRouting(mode, blue, green, { live: live("blue", 50) });
    console.log(mode, "setup ms", Date.now() - t, r.portalEntries(), r.reloadsAtStart);
    for (const [ka, fr] of [[8, 0], [0, 8]]) {
      t = Date.now();
      const l = startLoad({ url: r.liveUrl, keepAliveClients: ka, freshClients: fr, durationMs: 10000, maxRequests: 4000 });
      console.log(mode, ka, fr, Date.now() - t, JSON.stringify(summarize(await l.done)));
    }
    t = Date.now(); await r.setLive(live("blue", 5)); console.log("switch ms", Date.now() - t);
    console.log(fs.readFileSync(r.liveFile, "utf8"));
    await r.stop();
  }
  await blue.close(); await green.close();
})();
