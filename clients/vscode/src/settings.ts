/**
 * The settings object on the wire (docs/settings.md), built from VS Code's `ghostls.*`
 * configuration. Pure: the caller passes a lookup that returns only the values the
 * user set explicitly, so the server's own defaults and `GHOSTLS_*` environment
 * variables still apply to everything the user left alone.
 */
import * as manifest from "../package.json";

/** `ghostls.*` keys that only the extension reads; never sent to the server. */
export const CLIENT_ONLY_KEYS = new Set([
  "enable",
  "serverPath",
  "pythonPath",
  "profiles",
  "activeProfile",
  "trace.server",
  "nextEdit.suggest",
  "nextEdit.debounceMs",
]);

export type Wire = { [key: string]: unknown };

/** Every server setting as its dotted key below `ghostls.`, e.g. `completion.maxTokens`. */
export function serverSettingKeys(): string[] {
  const properties = manifest.contributes.configuration.properties;
  return Object.keys(properties)
    .map((key) => key.replace(/^ghostls\./, ""))
    .filter((key) => !CLIENT_ONLY_KEYS.has(key));
}

function setPath(target: Wire, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = typeof next === "object" && next !== null ? (next as Wire) : (node[part] = {});
  }
  node[path[path.length - 1]] = value;
}

/**
 * The wire object: explicitly set `ghostls.*` server keys, with the active backend
 * profile laid over `backend`, and `streaming` on unless the user turned it off
 * (this client shows `ghostls/inlineCompletionUpdate`).
 */
export function buildWireSettings(
  explicit: (key: string) => unknown,
  profiles: Record<string, unknown> = {},
  activeProfile: string | null | undefined = null,
): Wire {
  const wire: Wire = {};
  for (const key of serverSettingKeys()) {
    const value = explicit(key);
    if (value !== undefined && value !== null) setPath(wire, key.split("."), value);
  }
  const profile = activeProfile ? profiles[activeProfile] : undefined;
  if (profile && typeof profile === "object") {
    wire.backend = { ...((wire.backend as Wire | undefined) ?? {}), ...(profile as Wire) };
  }
  if (wire.streaming === undefined) wire.streaming = true;
  return wire;
}
