/**
 * Which program runs the server: `ghostls.serverPath`, else `ghostls` on PATH, else a
 * private venv the extension installed, else `python -m lsp_server` with the chosen
 * interpreter. Pure over the injected file-system probes, so it is unit tested. The
 * Python probe runs a process: it is asynchronous, so it never blocks the extension host.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface ServerCommand {
  command: string;
  args: string[];
  source: "setting" | "path" | "private" | "python";
}

export interface Probes {
  isExecutable(file: string): boolean;
  which(name: string): string | undefined;
  hasModule(python: string, module: string): Promise<boolean>;
}

export function privateVenvBin(storageDir: string, name: string): string {
  return process.platform === "win32"
    ? path.join(storageDir, "venv", "Scripts", `${name}.exe`)
    : path.join(storageDir, "venv", "bin", name);
}

export async function resolveServerCommand(
  serverPath: string | null | undefined,
  pythonPath: string | null | undefined,
  storageDir: string,
  probes: Probes,
): Promise<ServerCommand | undefined> {
  if (serverPath) return { command: serverPath, args: ["serve"], source: "setting" };
  const onPath = probes.which("ghostls");
  if (onPath) return { command: onPath, args: ["serve"], source: "path" };
  const installed = privateVenvBin(storageDir, "ghostls");
  if (probes.isExecutable(installed)) return { command: installed, args: ["serve"], source: "private" };
  const pythons = pythonPath ? [pythonPath] : ["python3", "python"];
  for (const python of pythons) {
    const resolved = path.isAbsolute(python) ? python : probes.which(python);
    if (resolved && (await probes.hasModule(resolved, "lsp_server"))) {
      return { command: resolved, args: ["-m", "lsp_server", "serve"], source: "python" };
    }
  }
  return undefined;
}

/** The probes on this machine. `hasModule` runs Python without blocking the caller. */
export const nodeProbes: Probes = {
  isExecutable(file: string): boolean {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  },
  which(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
      const candidate = path.join(dir, name);
      if (dir && nodeProbes.isExecutable(candidate)) return candidate;
    }
    return undefined;
  },
  hasModule(python: string, module: string): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(python, ["-c", `import ${module}`], { timeout: 10_000 }, (error) => resolve(!error));
    });
  },
};
