/**
 * `ghostls doctor` run by the extension must check what the user configured, not the
 * server's defaults. The doctor reads `GHOSTLS_*` environment variables (the same
 * layer the server reads below editor settings), so the user's `ghostls.*` settings go
 * to it as those variables, laid over the editor's own environment. Pure: unit tested
 * against the real `ghostls doctor`.
 */
import type { Wire } from "./settings";

/** Short names the server also reads (lsp_server/settings.py `_ENV_ALIASES`); they win
 * over the long ones there, so a short name left in the environment would hide the
 * user's setting. */
const ALIASES: Record<string, string> = {
  GHOSTLS_BACKEND: "backend.kind",
  GHOSTLS_URL: "backend.url",
  GHOSTLS_MODEL: "backend.model",
  GHOSTLS_MODEL_PATH: "backend.modelPath",
  GHOSTLS_API_KEY_ENV: "backend.apiKeyEnv",
  GHOSTLS_FIM_TEMPLATE: "backend.fimTemplate",
  GHOSTLS_MAX_TOKENS: "completion.maxTokens",
};

/** `backend.modelPath` → `GHOSTLS_BACKEND_MODEL_PATH`. */
export function envName(dotted: string): string {
  return "GHOSTLS_" + dotted.split(".").map((part) => part.replace(/([A-Z])/g, "_$1").toUpperCase()).join("_");
}

function leaves(wire: Wire, prefix = ""): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, value] of Object.entries(wire)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) out.push(...leaves(value as Wire, dotted));
    else if (value !== undefined && value !== null) out.push([dotted, value]);
  }
  return out;
}

/** The environment for `ghostls doctor`: `base` with the user's settings on top. */
export function doctorEnv(wire: Wire, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [dotted, value] of leaves(wire)) {
    env[envName(dotted)] = Array.isArray(value) ? value.join(",") : String(value);
    for (const [alias, path] of Object.entries(ALIASES)) if (path === dotted) delete env[alias];
  }
  return env;
}
