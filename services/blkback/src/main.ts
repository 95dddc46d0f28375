// Entry point of the blkback service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { blkbackService } from "./service.js";

runServiceMain(blkbackService);
