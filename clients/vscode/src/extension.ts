/**
 * ghostls for VS Code: starts the ghostls language server, shows its ghost text
 * (growing while the model streams), its status, and its code actions with a live view.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { Actions } from "./actions";
import { doctorEnv } from "./doctor";
import { InlineStreaming } from "./inline";
import { NextEdits } from "./nextEdit";
import { nodeProbes as probes, resolveServerCommand, privateVenvBin, type ServerCommand } from "./serverCommand";
import { buildWireSettings, type Wire } from "./settings";
import {
  isEnabledFor,
  renderStats,
  renderStatus,
  restartDelayMs,
  type ClientState,
  type ServerStatus,
  type Stats,
} from "./status";
import type { UpdateParams } from "./streamCache";

const SNOOZE_MS = 15 * 60_000;
const STATS_REFRESH_MS = 5_000;
const METHOD_NOT_FOUND = -32601;

class Ghostls implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private command: ServerCommand | undefined;
  private clientState: ClientState = { kind: "starting" };
  private serverStatus: ServerStatus | undefined;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private snoozeUntil = 0;
  private readonly log = vscode.window.createOutputChannel("ghostls", { log: true });
  private readonly item = vscode.window.createStatusBarItem("ghostls.status", vscode.StatusBarAlignment.Right, 100);
  private stats: Stats | undefined;
  private statsAsked = 0;
  private readonly inline = new InlineStreaming(
    (document) => this.enabledFor(document.languageId),
    (method, params) => this.notify(method, params),
  );
  private readonly actions = new Actions(() => this.client);
  private readonly nextEdits = new NextEdits(() => this.client); // next-edit suggestions
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.item.name = "ghostls";
    this.item.command = "ghostls.showMenu";
    this.item.show();
    const ticker = setInterval(() => this.renderStatus(), 30_000);
    this.disposables.push(
      this.log,
      this.item,
      this.nextEdits,
      { dispose: () => clearInterval(ticker) },
      vscode.workspace.registerTextDocumentContentProvider("ghostls-preview", this.actions),
      vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.renderStatus()),
    );
    const commands: Record<string, (...args: never[]) => unknown> = {
      "ghostls.showMenu": () => this.showMenu(),
      "ghostls.toggle": () => this.setEnabled("*"),
      "ghostls.toggleLanguage": () => this.setEnabled(vscode.window.activeTextEditor?.document.languageId ?? "*"),
      "ghostls.snooze": () => this.snooze(),
      "ghostls.switchProfile": () => this.switchProfile(),
      "ghostls.showLogs": () => this.log.show(),
      "ghostls.doctor": () => this.doctor(),
      "ghostls.restartServer": () => this.restart(),
      "ghostls.installServer": () => this.install(),
      "ghostls.redirectAction": () => this.actions.redirect(),
      "ghostls.acceptChange": (target?: unknown) => this.actions.accept(target),
      "ghostls.rejectChange": (target?: unknown) => this.actions.reject(target),
      "ghostls.showStats": () => this.showStats(),
      "ghostls.acceptNextWord": () => this.inline.acceptPart("Word"),
      "ghostls.acceptNextLine": () => this.inline.acceptPart("Line"),
    };
    for (const [name, run] of Object.entries(commands)) {
      this.disposables.push(vscode.commands.registerCommand(name, run));
    }
  }

  // -- settings ---------------------------------------------------------------------------

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("ghostls");
  }

  wireSettings(): Wire {
    const config = this.config();
    const explicit = (key: string): unknown => {
      const seen = config.inspect(key);
      return seen?.workspaceFolderValue ?? seen?.workspaceValue ?? seen?.globalValue;
    };
    return buildWireSettings(explicit, config.get("profiles") ?? {}, config.get<string | null>("activeProfile"));
  }

  private enabledFor(languageId: string | undefined): boolean {
    return Date.now() >= this.snoozeUntil && isEnabledFor(this.config().get("enable"), languageId);
  }

  private async onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration("ghostls")) return;
    if (event.affectsConfiguration("ghostls.serverPath") || event.affectsConfiguration("ghostls.pythonPath")) {
      await this.restart();
    } else if (this.client?.isRunning()) {
      await this.client.sendNotification("workspace/didChangeConfiguration", { settings: { ghostls: this.wireSettings() } });
    }
    this.renderStatus();
  }

  // -- server life cycle ------------------------------------------------------------------

  async start(): Promise<void> {
    this.stopping = false;
    const config = this.config();
    const storage = this.context.globalStorageUri.fsPath;
    this.command = await resolveServerCommand(config.get("serverPath"), config.get("pythonPath"), storage, probes);
    if (!this.command) {
      this.setClientState({ kind: "failed", reason: "no ghostls server found" });
      void this.offerInstall();
      return;
    }
    this.log.info(`starting ${this.command.command} ${this.command.args.join(" ")} (${this.command.source})`);
    this.setClientState({ kind: "starting" });
    const client = new LanguageClient("ghostls", "ghostls", this.serverOptions(this.command), this.clientOptions());
    this.client = client;
    client.onNotification("ghostls/status", (status: ServerStatus) => {
      this.serverStatus = status;
      this.renderStatus();
      if (status.state === "idle") void this.refreshStats();
    });
    client.onNotification("ghostls/inlineCompletionUpdate", (update: UpdateParams) => this.inline.onUpdate(update));
    client.onNotification("ghostls/actionStream", (params) => this.actions.onStream(params));
    client.onNotification("ghostls/actionResult", (params) => this.actions.onResult(params));
    try {
      await client.start();
      this.restarts = 0;
      this.setClientState({ kind: "running" });
    } catch (error) {
      this.log.error(`the server failed to start: ${String(error)}`);
      this.scheduleRestart(String(error));
    }
  }

  private serverOptions(command: ServerCommand): ServerOptions {
    return { command: command.command, args: command.args, options: { env: process.env } };
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      initializationOptions: this.wireSettings(),
      outputChannel: this.log,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          if (!this.stopping) this.scheduleRestart("the process exited");
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) =>
          this.inline.provide(document, position, context, token, next),
        executeCommand: (command, args, next) => this.actions.executeCommand(command, args, next),
        workspace: {
          configuration: (params, token, next) =>
            params.items.some((item) => item.section === "ghostls")
              ? params.items.map((item) => (item.section === "ghostls" ? this.wireSettings() : null))
              : next(params, token),
        },
      },
    };
  }

  private scheduleRestart(reason: string): void {
    if (this.stopping || this.restartTimer) return;
    this.restarts += 1;
    const delay = restartDelayMs(this.restarts);
    this.setClientState({ kind: "restarting", inSeconds: Math.round(delay / 1000), reason });
    void vscode.window
      .showWarningMessage(`ghostls: the server stopped (${reason}); restarting in ${Math.round(delay / 1000)} s.`, "Show logs")
      .then((choice) => choice && this.log.show());
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const old = this.client;
      this.client = undefined;
      void (old?.dispose().catch(() => undefined) ?? Promise.resolve()).then(() => this.start());
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) await client.stop().catch(() => undefined);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restarts = 0;
    await this.start();
  }

  private async offerInstall(): Promise<void> {
    const choice = await vscode.window.showWarningMessage(
      "ghostls: no server found (no ghostls.serverPath, no ghostls on PATH, no Python with ghostls).",
      "Install into a private environment",
      "Open settings",
    );
    if (choice === "Open settings") await vscode.commands.executeCommand("workbench.action.openSettings", "ghostls");
    if (choice?.startsWith("Install")) await this.install();
  }

  private async install(): Promise<void> {
    const storage = this.context.globalStorageUri.fsPath;
    const ok = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "ghostls: installing the server", cancellable: false },
      async (progress) => {
        fs.mkdirSync(storage, { recursive: true });
        const python = this.config().get<string | null>("pythonPath") || "python3";
        progress.report({ message: "creating a virtual environment…" });
        await run(python, ["-m", "venv", path.join(storage, "venv")], this.log);
        progress.report({ message: "pip install ghostls…" });
        return run(privateVenvBin(storage, "python"), ["-m", "pip", "install", "--upgrade", "ghostls"], this.log);
      },
    );
    if (ok) await this.restart();
    else void vscode.window.showErrorMessage("ghostls: the installation failed; see the logs.", "Show logs").then((c) => c && this.log.show());
  }

  private async doctor(): Promise<void> {
    const command = this.command;
    if (!command) return void vscode.window.showWarningMessage("ghostls: no server to ask.");
    const args = command.source === "python" ? ["-m", "lsp_server", "doctor"] : ["doctor"];
    this.log.show();
    // The user's settings, not the server's defaults: the doctor reads GHOSTLS_*.
    const ok = await run(command.command, args, this.log, doctorEnv(this.wireSettings(), process.env));
    if (!ok) void vscode.window.showWarningMessage("ghostls doctor failed or is not available in this version; see the logs.");
  }

  // -- reports and stats ------------------------------------------------------------------

  private notify(method: string, params: object): void {
    if (this.client?.isRunning()) void this.client.sendNotification(method, params).catch(() => undefined);
  }

  private async fetchStats(): Promise<Stats | "unsupported" | undefined> {
    const client = this.client;
    if (!client?.isRunning()) return undefined;
    try {
      // `{}`, not no params: the server answers a request without params -32602.
      return await client.sendRequest<Stats>("ghostls/stats", {});
    } catch (error) {
      if ((error as { code?: number }).code === METHOD_NOT_FOUND) return "unsupported";
      this.log.warn(`ghostls/stats failed: ${String(error)}`);
      return undefined;
    }
  }

  private async refreshStats(): Promise<void> {
    if (Date.now() - this.statsAsked < STATS_REFRESH_MS) return;
    this.statsAsked = Date.now();
    const stats = await this.fetchStats();
    if (stats && stats !== "unsupported") {
      this.stats = stats;
      this.renderStatus();
    }
  }

  private async showStats(): Promise<void> {
    const stats = await this.fetchStats();
    if (stats === "unsupported") {
      void vscode.window.showInformationMessage("ghostls: stats are not supported by this server (no ghostls/stats); update ghostls.");
      return;
    }
    if (!stats) {
      void vscode.window.showWarningMessage("ghostls: the server is not running; no stats.");
      return;
    }
    this.stats = stats;
    this.renderStatus();
    const lines = renderStats(stats);
    this.log.info(`stats: ${lines.join(" | ")}`);
    void vscode.window.showInformationMessage(`ghostls stats — ${lines.join(" — ")}`);
  }

  // -- status bar and menu ----------------------------------------------------------------

  private setClientState(state: ClientState): void {
    this.clientState = state;
    this.renderStatus();
  }

  private renderStatus(): void {
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const snoozedMinutes = Math.max(0, Math.ceil((this.snoozeUntil - Date.now()) / 60_000));
    const view = renderStatus(this.serverStatus, this.clientState, {
      enabledHere: isEnabledFor(this.config().get("enable"), languageId),
      snoozedMinutes,
    });
    this.item.text = view.text;
    this.item.tooltip = this.stats ? [view.tooltip, "", ...renderStats(this.stats)].join("\n") : view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
  }

  private async showMenu(): Promise<void> {
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const enable = this.config().get<Record<string, boolean>>("enable") ?? {};
    const globally = enable["*"] !== false;
    const picks: (vscode.QuickPickItem & { run: () => unknown })[] = [
      { label: globally ? "$(circle-slash) Disable globally" : "$(check) Enable globally", run: () => this.setEnabled("*") },
    ];
    if (languageId) {
      const here = isEnabledFor(enable, languageId);
      picks.push({ label: `${here ? "$(circle-slash) Disable" : "$(check) Enable"} for ${languageId}`, run: () => this.setEnabled(languageId) });
    }
    picks.push(
      Date.now() < this.snoozeUntil
        ? { label: "$(bell) Resume now", run: () => this.snooze(0) }
        : { label: "$(clock) Snooze for 15 minutes", run: () => this.snooze() },
      { label: "$(server) Switch backend profile…", run: () => this.switchProfile() },
      { label: "$(output) Show logs", run: () => this.log.show() },
      { label: "$(pulse) Run ghostls doctor", run: () => this.doctor() },
      { label: "$(graph) Show stats", run: () => this.showStats() },
      { label: "$(debug-restart) Restart server", run: () => this.restart() },
    );
    const status = this.serverStatus;
    const choice = await vscode.window.showQuickPick(picks, {
      title: status ? `ghostls — ${status.backend ?? ""} ${status.model ?? ""}`.trim() : "ghostls",
    });
    await choice?.run();
  }

  private async setEnabled(languageId: string): Promise<void> {
    const enable = { ...(this.config().get<Record<string, boolean>>("enable") ?? {}) };
    enable[languageId] = !isEnabledFor(enable, languageId === "*" ? undefined : languageId);
    await this.config().update("enable", enable, vscode.ConfigurationTarget.Global);
  }

  private snooze(ms = SNOOZE_MS): void {
    this.snoozeUntil = Date.now() + ms;
    this.renderStatus();
  }

  private async switchProfile(): Promise<void> {
    const profiles = Object.keys(this.config().get<Record<string, unknown>>("profiles") ?? {});
    const items = ["(settings: ghostls.backend.*)", ...profiles];
    const choice = await vscode.window.showQuickPick(items, { title: "ghostls backend profile" });
    if (choice === undefined) return;
    const value = profiles.includes(choice) ? choice : null;
    await this.config().update("activeProfile", value, vscode.ConfigurationTarget.Global);
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

function run(command: string, args: string[], log: vscode.LogOutputChannel, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    log.info(`$ ${command} ${args.join(" ")}`);
    execFile(command, args, { timeout: 10 * 60_000, env }, (error, stdout, stderr) => {
      if (stdout) log.info(stdout);
      if (stderr) log.warn(stderr);
      resolve(!error);
    });
  });
}

let ghostls: Ghostls | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ghostls = new Ghostls(context);
  context.subscriptions.push(ghostls);
  // Finding the server can run a Python probe: activation does not wait for it.
  void ghostls.start();
}

export async function deactivate(): Promise<void> {
  await ghostls?.stop();
}
