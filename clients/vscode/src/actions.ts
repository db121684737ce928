/**
 * Code actions with a live view. The server lists actions (`textDocument/codeAction`);
 * choosing one runs `ghostls.runAction`, which this middleware intercepts to ask for an
 * instruction when needed and to open a side panel that shows the streamed
 * `ghostls/actionStream` Markdown. Edits returned for preview (`ghostls/actionResult`)
 * open a diff with Accept / Reject. A running action can be redirected with a new
 * instruction (`ghostls/redirectAction`), which resets its view.
 */
import * as vscode from "vscode";
import type { LanguageClient, WorkspaceEdit } from "vscode-languageclient/node";

export const RUN_ACTION = "ghostls.runAction";
export const PREVIEW_SCHEME = "ghostls-preview";

/** A change the server proposed, shown as a diff until the user accepts or rejects it. */
interface Proposal {
  actionId: string;
  edit: vscode.WorkspaceEdit; // without change annotations
  previews: vscode.Uri[];
  versions: Map<string, number>; // document versions the edit was computed for
}

interface RunArgs {
  kind?: string;
  uri?: string;
  instruction?: string;
  [key: string]: unknown;
}

class ActionView {
  actionId: string | undefined;
  text = "";
  done = false;
  private readonly panel: vscode.WebviewPanel;
  private rendering = Promise.resolve();

  constructor(readonly title: string) {
    this.panel = vscode.window.createWebviewPanel("ghostls.action", title, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
    }, { enableCommandUris: true });
    this.render();
  }

  append(delta: string, done: boolean): void {
    this.text += delta;
    this.done = this.done || done;
    this.render();
  }

  reset(): void {
    this.text = "";
    this.done = false;
    this.render();
  }

  private render(): void {
    this.rendering = this.rendering.then(async () => {
      let body: string;
      try {
        body = await vscode.commands.executeCommand<string>("markdown.api.render", this.text);
      } catch {
        body = `<pre>${escapeHtml(this.text)}</pre>`;
      }
      const redirect = this.done ? "" : `<p><a href="command:ghostls.redirectAction">Change the instruction…</a></p>`;
      const state = this.done ? "" : `<p><em>writing…</em></p>`;
      this.panel.webview.html = `<!DOCTYPE html><html><body><div id="ghostls-action">${body}</div>${state}${redirect}</body></html>`;
    });
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

export class Actions {
  private readonly views = new Map<string, ActionView>();
  private readonly pending: ActionView[] = [];
  private latest: ActionView | undefined;
  private readonly previews = new Map<string, string>();
  private readonly proposals = new Map<string, Proposal>();

  constructor(private readonly getClient: () => LanguageClient | undefined) {}

  /** Content provider for the `ghostls-preview:` documents the diff view shows. */
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.previews.get(uri.toString()) ?? "";
  }

  async executeCommand(command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown): Promise<unknown> {
    if (command !== RUN_ACTION) return next(command, args);
    const run: RunArgs = { ...((args[0] as RunArgs | undefined) ?? {}) };
    if (/instruction|edit$/i.test(run.kind ?? "") && !run.instruction) {
      const instruction = await vscode.window.showInputBox({ prompt: "ghostls: how should the code change?" });
      if (!instruction) return undefined;
      run.instruction = instruction;
    }
    run.preview = true;
    const view = new ActionView(`ghostls: ${run.kind ?? "action"}`);
    this.pending.push(view);
    this.latest = view;
    const result = await next(command, [run, ...args.slice(1)]);
    const id = (result as { actionId?: unknown } | undefined)?.actionId;
    if (typeof id === "string" && !view.actionId) this.adopt(view, id);
    return result;
  }

  private adopt(view: ActionView, actionId: string): void {
    view.actionId = actionId;
    this.views.set(actionId, view);
    const index = this.pending.indexOf(view);
    if (index >= 0) this.pending.splice(index, 1);
  }

  private viewFor(actionId: string): ActionView {
    let view = this.views.get(actionId);
    if (!view) {
      view = this.pending[0] ?? new ActionView("ghostls");
      this.adopt(view, actionId);
    }
    return view;
  }

  onStream(params: { actionId: string; delta?: string; done?: boolean }): void {
    this.viewFor(params.actionId).append(params.delta ?? "", params.done === true);
  }

  async onResult(params: { actionId: string; edit?: unknown }): Promise<void> {
    const client = this.getClient();
    if (!client || !params.edit) return;
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(params.edit as WorkspaceEdit);
    if (!edit) return;
    const proposal: Proposal = { actionId: params.actionId, edit: plainEdit(edit), previews: [], versions: new Map() };
    for (const [uri, edits] of edit.entries()) {
      const document = await vscode.workspace.openTextDocument(uri);
      const preview = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: uri.path, query: params.actionId });
      this.previews.set(preview.toString(), applyEdits(document, edits));
      proposal.previews.push(preview);
      proposal.versions.set(uri.toString(), document.version);
      await vscode.commands.executeCommand("vscode.diff", uri, preview, `ghostls: proposed change ↔ ${uri.path.split("/").pop()}`);
    }
    this.proposals.set(params.actionId, proposal);
    // The diff's title bar also has Accept / Reject (a notification can be dismissed
    // or hide itself); whichever the user clicks first decides.
    const choice = await vscode.window.showInformationMessage("Apply the change ghostls proposes?", "Accept", "Reject");
    if (choice === "Accept") await this.accept(params.actionId);
    else if (choice === "Reject") await this.reject(params.actionId);
  }

  /** The proposal a title-bar button (or the command palette) means. */
  private proposalFor(target: unknown): Proposal | undefined {
    if (typeof target === "string") return this.proposals.get(target);
    if (target instanceof vscode.Uri && target.scheme === PREVIEW_SCHEME) return this.proposals.get(target.query);
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active?.scheme === PREVIEW_SCHEME && this.proposals.has(active.query)) return this.proposals.get(active.query);
    return [...this.proposals.values()].pop();
  }

  /**
   * Apply a proposed change. The server marks its edits as needing confirmation (a
   * change annotation); handing that edit to `applyEdit` would open VS Code's Refactor
   * Preview with the change unchecked, after the user already chose Accept here, so
   * the plain edit (no annotations) is applied instead.
   */
  async accept(target?: unknown): Promise<boolean> {
    const proposal = this.proposalFor(target);
    if (!proposal) {
      void vscode.window.showInformationMessage("ghostls: no proposed change to accept.");
      return false;
    }
    this.proposals.delete(proposal.actionId);
    for (const [uri, version] of proposal.versions) {
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
      if (document && document.version !== version) {
        await this.closePreviews(proposal);
        void vscode.window.showWarningMessage("ghostls: the file changed since the change was proposed; it was not applied.");
        return false;
      }
    }
    const applied = await vscode.workspace.applyEdit(proposal.edit);
    await this.closePreviews(proposal);
    if (!applied) void vscode.window.showErrorMessage("ghostls: VS Code did not apply the change.");
    return applied;
  }

  async reject(target?: unknown): Promise<void> {
    const proposal = this.proposalFor(target);
    if (!proposal) return;
    this.proposals.delete(proposal.actionId);
    await this.closePreviews(proposal);
  }

  private async closePreviews(proposal: Proposal): Promise<void> {
    const wanted = new Set(proposal.previews.map((uri) => uri.toString()));
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && wanted.has(tab.input.modified.toString()));
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
    for (const preview of proposal.previews) this.previews.delete(preview.toString());
    for (const uri of proposal.versions.keys()) {
      await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: false });
    }
  }

  async redirect(): Promise<void> {
    const view = this.latest;
    const client = this.getClient();
    if (!view?.actionId || view.done || !client) {
      void vscode.window.showInformationMessage("ghostls: no action is running.");
      return;
    }
    const instruction = await vscode.window.showInputBox({ prompt: "ghostls: new instruction for the running action" });
    if (!instruction) return;
    view.reset();
    await client.sendNotification("ghostls/redirectAction", { actionId: view.actionId, instruction });
  }
}

/** The same text edits, without the metadata (change annotations) that ask for a preview. */
export function plainEdit(edit: vscode.WorkspaceEdit): vscode.WorkspaceEdit {
  const plain = new vscode.WorkspaceEdit();
  for (const [uri, edits] of edit.entries()) {
    for (const change of edits) plain.replace(uri, change.range, change.newText);
  }
  return plain;
}

/** The document text with `edits` applied (they do not overlap; apply from the end). */
export function applyEdits(document: vscode.TextDocument, edits: readonly vscode.TextEdit[]): string {
  let text = document.getText();
  const sorted = [...edits].sort((a, b) => document.offsetAt(b.range.start) - document.offsetAt(a.range.start));
  for (const edit of sorted) {
    text = text.slice(0, document.offsetAt(edit.range.start)) + edit.newText + text.slice(document.offsetAt(edit.range.end));
  }
  return text;
}
