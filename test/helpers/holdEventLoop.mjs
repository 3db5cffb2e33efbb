// Preloaded into a child process (`NODE_OPTIONS=--import <this file>`) by tests: a timer that
// holds the event loop for 10 minutes, as a library's leftover timer would, to show that the
// process exits after its command anyway.
import { setTimeout } from "node:timers";

setTimeout(() => {}, 600_000);
