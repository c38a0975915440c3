// Runs the compiled controller as a real child process (`node controller/dist/main.js ...`) for
// integration tests, with its JSON log lines kept for assertions and written to a file for debugging.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTROLLER_NODE_FLAGS, builtControllerMain } from "./controller-main.ts";

export interface ControllerProcess {
  child: ChildProcess;
  logFile: string;
  lines: Array<Record<string, unknown>>;
  /** Resolves when the process exits. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startController(args: string[], env: NodeJS.ProcessEnv = {}): ControllerProcess {
  const main = builtControllerMain();
  const logFile = join(mkdtempSync(join(tmpdir(), "ej-controller-")), "controller.log");
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...CONTROLLER_NODE_FLAGS, main, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = "";
  child.stdout!.on("data", (d: Buffer) => {
    out.write(d);
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try { lines.push(JSON.parse(line) as Record<string, unknown>); } catch { /* not JSON: kept in the file only */ }
    }
  });
  child.stderr!.on("data", (d: Buffer) => out.write(d));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => { out.end(); res(code); }));
  return {
    child, logFile, lines, exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
