// Entry point of the page-server service (worker thread of a host process, or a process of its own).
import { runServiceMain } from "@xensim/runtime";
import { pageServerService } from "./service.js";

runServiceMain(pageServerService);
