/**
 * What the status bar item says: the server's `ghostls/status` plus the client's own
 * state (starting, stopped, disabled, snoozed). Pure; the extension renders it.
 */

export interface ServerStatus {
  state: "idle" | "loading" | "downloading" | "generating" | "error" | string;
  backend?: string;
  model?: string;
  detail?: string | null;
  latencyMs?: number | null;
}

export type ClientState =
  | { kind: "starting" }
  | { kind: "running" }
  | { kind: "restarting"; inSeconds: number; reason: string }
  | { kind: "failed"; reason: string };

export interface Gate {
  enabledHere: boolean; // for the active editor's language
  snoozedMinutes: number; // 0 when not snoozed
}

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

export function renderStatus(server: ServerStatus | undefined, client: ClientState, gate: Gate): StatusView {
  const model = server?.model ? ` ${server.model}` : "";
  const where = server?.backend ? `\nBackend: ${server.backend}` : "";
  if (client.kind === "failed") {
    return { text: "$(error) ghostls", tooltip: `ghostls is not running: ${client.reason}`, error: true };
  }
  if (client.kind === "restarting") {
    return {
      text: `$(sync~spin) ghostls restarting in ${client.inSeconds}s`,
      tooltip: `The ghostls server stopped (${client.reason}); restarting.`,
      error: true,
    };
  }
  if (client.kind === "starting" || !server) {
    return { text: "$(loading~spin) ghostls", tooltip: "ghostls is starting…", error: false };
  }
  if (gate.snoozedMinutes > 0) {
    return { text: `$(clock) ghostls snoozed ${gate.snoozedMinutes} min`, tooltip: `Snoozed.${where}`, error: false };
  }
  if (!gate.enabledHere) {
    return { text: `$(circle-slash)${model}`, tooltip: `ghostls is disabled here.${where}`, error: false };
  }
  const detail = server.detail ? `\n${server.detail}` : "";
  switch (server.state) {
    case "generating":
      return { text: `$(sync~spin)${model}`, tooltip: `Generating…${where}`, error: false };
    case "loading":
      return { text: `$(loading~spin)${model} loading`, tooltip: `Loading the model…${where}${detail}`, error: false };
    case "downloading":
      return {
        text: `$(cloud-download)${model} ${server.detail ?? ""}`.trimEnd(),
        tooltip: `Downloading the model ${server.detail ?? ""}${where}`,
        error: false,
      };
    case "error":
      return { text: `$(warning)${model}`, tooltip: `ghostls: ${server.detail ?? "error"}${where}`, error: true };
    default: {
      const latency = typeof server.latencyMs === "number" ? ` · ${Math.round(server.latencyMs)} ms` : "";
      return { text: `$(sparkle)${model}${latency}`, tooltip: `ghostls ready${where}${detail}`, error: false };
    }
  }
}

/** `ghostls.enable` is `{ "*": bool, languageId: bool }`, like Copilot's setting. */
export function isEnabledFor(enable: Record<string, boolean> | undefined, languageId: string | undefined): boolean {
  const table = enable ?? {};
  if (languageId !== undefined && typeof table[languageId] === "boolean") return table[languageId];
  return table["*"] !== false;
}

/** Back-off before restart number `attempt` (1-based): 1 s, 2 s, 4 s … capped at 30 s. */
export function restartDelayMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/** The `ghostls/stats` answer (docs/protocol.md): local counts, nothing leaves the machine. */
export interface Stats {
  shown: number;
  accepted: number;
  partiallyAccepted: number;
  charsAccepted: number;
  perBackend?: Record<string, { requests: number; p50Ms: number | null; p90Ms: number | null }>;
  since?: string | null;
}

function ms(value: number | null | undefined): string {
  return typeof value === "number" ? `${Math.round(value)} ms` : "–";
}

/** Stats as lines for the status bar tooltip and the "Show Stats" message. */
export function renderStats(stats: Stats): string[] {
  const lines = [
    `Suggestions: ${stats.shown} shown · ${stats.accepted} accepted · ${stats.partiallyAccepted} partly accepted · ${stats.charsAccepted} characters kept`,
  ];
  for (const [name, backend] of Object.entries(stats.perBackend ?? {})) {
    lines.push(`${name}: ${backend.requests} requests · first text p50 ${ms(backend.p50Ms)} · p90 ${ms(backend.p90Ms)}`);
  }
  if (stats.since) lines.push(`Counted since ${stats.since}`);
  return lines;
}
