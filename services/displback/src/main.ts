// Entry point of the displback service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { displbackService } from "./service.js";

runServiceMain(displbackService);
