/**
 * Which program runs the server: `ghostls.serverPath`, else `ghostls` on PATH, else a
 * private venv the extension installed, else `python -m lsp_server` with the chosen
 * interpreter. Pure over the injected file-system probes, so it is unit tested.
 */
import * as path from "node:path";

export interface ServerCommand {
  command: string;
  args: string[];
  source: "setting" | "path" | "private" | "python";
}

export interface Probes {
  isExecutable(file: string): boolean;
  which(name: string): string | undefined;
  hasModule(python: string, module: string): boolean;
}

export function privateVenvBin(storageDir: string, name: string): string {
  return process.platform === "win32"
    ? path.join(storageDir, "venv", "Scripts", `${name}.exe`)
    : path.join(storageDir, "venv", "bin", name);
}

export function resolveServerCommand(
  serverPath: string | null | undefined,
  pythonPath: string | null | undefined,
  storageDir: string,
  probes: Probes,
): ServerCommand | undefined {
  if (serverPath) return { command: serverPath, args: ["serve"], source: "setting" };
  const onPath = probes.which("ghostls");
  if (onPath) return { command: onPath, args: ["serve"], source: "path" };
  const installed = privateVenvBin(storageDir, "ghostls");
  if (probes.isExecutable(installed)) return { command: installed, args: ["serve"], source: "private" };
  const pythons = pythonPath ? [pythonPath] : ["python3", "python"];
  for (const python of pythons) {
    const resolved = path.isAbsolute(python) ? python : probes.which(python);
    if (resolved && probes.hasModule(resolved, "lsp_server")) {
      return { command: resolved, args: ["-m", "lsp_server", "serve"], source: "python" };
    }
  }
  return undefined;
}
