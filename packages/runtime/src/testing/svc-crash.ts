// Test-only service that fails: in start ("start"), or by an uncaught exception after start ("later"),
// or by exiting its thread ("exit").
import { z } from "zod";
import { runServiceMain, type ServiceModule } from "../index.js";

const Config = z.object({ mode: z.enum(["start", "later", "exit"]) });

const crashService: ServiceModule<z.output<typeof Config>> = {
  name: "crash",
  configSchema: Config,
  async start(ctx) {
    if (ctx.config.mode === "start") throw new Error("cannot start on purpose");
    setTimeout(() => {
      if (ctx.config.mode === "exit") process.exit(3);
      throw new Error("boom after start");
    }, 500);
    return { stop: async () => {} };
  },
};

void runServiceMain(crashService as ServiceModule);
