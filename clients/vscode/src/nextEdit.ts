/**
 * Next-edit suggestions: the edit the user is about to make, anywhere near the cursor.
 *
 * Once an edit has settled (`ghostls.nextEdit.debounceMs` without another change), the
 * server is asked (`textDocument/copilotInlineEdit`); each edit it suggests is shown
 * where it applies, with what the stable API allows: the replaced text struck through
 * (a decoration) and the new text after it (an `after` decoration). `ghostls.nextEdit.tab`
 * (Tab while edits are shown) jumps to the next edit, or applies the edits when the
 * cursor is already at one; Escape dismisses them. Shown, applied and dismissed edits
 * are reported to the server. Any change of the document drops what is shown: the
 * edits were computed for the text before it. An insertion right at the cursor
 * (`atCursor`) is offered as an inline completion (ghost text, Tab accepts) instead.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

export const METHOD = "textDocument/copilotInlineEdit";
export const VISIBLE_CONTEXT = "ghostls.nextEditVisible";

interface WirePosition {
  line: number;
  character: number;
}

export interface WireEdit {
  text: string;
  range: { start: WirePosition; end: WirePosition };
  textDocument?: { uri: string; version: number };
  command?: { title: string; command: string; arguments?: unknown[] };
  id?: string;
  atCursor?: boolean;
}

interface Shown {
  editor: vscode.TextEditor;
  version: number;
  edits: WireEdit[];
  ranges: vscode.Range[];
}

/** The first edit that starts after `at`, else the first one (wrapping); -1 for none. */
export function nextIndex(starts: { line: number; character: number }[], at: { line: number; character: number }): number {
  const after = starts.findIndex((s) => s.line > at.line || (s.line === at.line && s.character > at.character));
  return after >= 0 ? after : starts.length > 0 ? 0 : -1;
}

export class NextEdits implements vscode.Disposable {
  private shown: Shown | undefined;
  private atCursor: { document: vscode.TextDocument; version: number; edits: WireEdit[] } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private readonly deleted = vscode.window.createTextEditorDecorationType({
    textDecoration: "line-through",
    backgroundColor: new vscode.ThemeColor("diffEditor.removedTextBackground"),
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({});
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly getClient: () => LanguageClient | undefined) {
    this.disposables.push(
      this.deleted,
      this.inserted,
      vscode.workspace.onDidChangeTextDocument((event) => this.onChange(event)),
      vscode.window.onDidChangeActiveTextEditor(() => this.clear()),
      vscode.commands.registerCommand("ghostls.nextEdit.request", () => this.request()),
      vscode.commands.registerCommand("ghostls.nextEdit.jump", () => this.jump()),
      vscode.commands.registerCommand("ghostls.nextEdit.accept", () => this.accept()),
      vscode.commands.registerCommand("ghostls.nextEdit.tab", () => (this.atEdit() ? this.accept() : this.jump())),
      vscode.commands.registerCommand("ghostls.nextEdit.dismiss", () => this.dismiss()),
      vscode.commands.registerCommand("ghostls.nextEdit.report", (command: WireEdit["command"]) => this.report(command)),
      vscode.languages.registerInlineCompletionItemProvider({ pattern: "**" }, {
        provideInlineCompletionItems: (document, position) => this.atCursorItems(document, position),
      }),
    );
  }

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration("ghostls.nextEdit");
  }

  private onChange(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) return;
    const editor = vscode.window.activeTextEditor;
    if (this.shown && this.shown.editor.document === event.document) this.clear();
    if (!editor || editor.document !== event.document || !this.config().get<boolean>("suggest")) return;
    if (this.timer) clearTimeout(this.timer);
    this.pending?.cancel(); // the newest edit wins: the request in flight is stale
    this.timer = setTimeout(() => void this.request(), this.config().get<number>("debounceMs") ?? 150);
  }

  /** Ask for the next edit at the cursor of the active editor now. */
  async request(): Promise<number> {
    const client = this.getClient();
    const editor = vscode.window.activeTextEditor;
    if (!client?.isRunning() || !editor) return 0;
    this.pending?.cancel();
    const source = (this.pending = new vscode.CancellationTokenSource());
    const document = editor.document;
    const version = document.version;
    const position = editor.selection.active;
    const params = {
      textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri), version },
      position: { line: position.line, character: position.character },
    };
    let result: { edits?: WireEdit[] } | undefined;
    try {
      result = await client.sendRequest<{ edits?: WireEdit[] }>(METHOD, params, source.token);
    } catch {
      return 0; // cancelled, or the document moved on (ContentModified)
    }
    if (source.token.isCancellationRequested || document.version !== version || vscode.window.activeTextEditor !== editor) {
      return 0;
    }
    const edits = (result?.edits ?? []).filter((e) => !e.textDocument || e.textDocument.version === version);
    this.show(editor, version, edits);
    return edits.length;
  }

  private show(editor: vscode.TextEditor, version: number, edits: WireEdit[]): void {
    this.clear();
    if (edits.length === 0) return;
    if (edits.every((edit) => edit.atCursor)) {
      // At the cursor: a completion. Shown by VS Code's inline suggestion widget.
      this.atCursor = { document: editor.document, version, edits };
      void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
      void this.getClient()?.sendNotification("textDocument/didShowInlineEdit", { item: edits[0] });
      return;
    }
    const ranges = edits.map(
      (e) => new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character),
    );
    this.shown = { editor, version, edits, ranges };
    editor.setDecorations(
      this.deleted,
      ranges.filter((r) => !r.isEmpty),
    );
    editor.setDecorations(
      this.inserted,
      edits.map((edit, i) => ({
        range: new vscode.Range(ranges[i].end, ranges[i].end),
        renderOptions: {
          after: {
            contentText: edit.text.replace(/\n/g, " ⏎ "),
            backgroundColor: new vscode.ThemeColor("diffEditor.insertedTextBackground"),
            border: "1px solid",
            borderColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
          },
        },
      })),
    );
    void vscode.commands.executeCommand("setContext", VISIBLE_CONTEXT, true);
    void this.getClient()?.sendNotification("textDocument/didShowInlineEdit", { item: edits[0] });
  }

  /** The edit at the cursor as an inline completion with its range (see `show`). */
  private atCursorItems(document: vscode.TextDocument, position: vscode.Position): vscode.InlineCompletionItem[] {
    const offered = this.atCursor;
    if (!offered || offered.document !== document || document.version !== offered.version) return [];
    return offered.edits
      .filter((e) => e.range.start.line === position.line && e.range.start.character === position.character)
      .map((e) => {
        const range = new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character);
        const command = { title: "ghostls: next edit accepted", command: "ghostls.nextEdit.report", arguments: [e.command] };
        return new vscode.InlineCompletionItem(e.text, range, command);
      });
  }

  private report(command: WireEdit["command"]): void {
    const client = this.getClient();
    if (command && client?.isRunning()) {
      void client.sendRequest("workspace/executeCommand", { command: command.command, arguments: command.arguments ?? [] });
    }
  }

  private current(): Shown | undefined {
    const shown = this.shown;
    if (!shown || shown.editor.document.version !== shown.version || vscode.window.activeTextEditor !== shown.editor) {
      return undefined;
    }
    return shown;
  }

  private atEdit(): boolean {
    const shown = this.current();
    const cursor = shown?.editor.selection.active;
    return !!shown && !!cursor && shown.ranges.some((r) => r.start.isEqual(cursor));
  }

  /** Move the cursor to the next suggested edit. */
  jump(): boolean {
    const shown = this.current();
    if (!shown) return false;
    const index = nextIndex(shown.ranges.map((r) => r.start), shown.editor.selection.active);
    if (index < 0) return false;
    const target = shown.ranges[index].start;
    shown.editor.selection = new vscode.Selection(target, target);
    shown.editor.revealRange(shown.ranges[index], vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return true;
  }

  /** Apply every suggested edit, and report it. */
  async accept(): Promise<boolean> {
    const shown = this.current();
    if (!shown) return false;
    this.clear();
    const applied = await shown.editor.edit((builder) => {
      shown.edits.forEach((edit, i) => builder.replace(shown.ranges[i], edit.text));
    });
    if (applied) this.report(shown.edits[0].command);
    return applied;
  }

  /** Drop the suggested edits, and report it. */
  dismiss(): void {
    const shown = this.current();
    if (shown) void this.getClient()?.sendNotification("ghostls/nextEditRejected", { id: shown.edits[0].id });
    this.clear();
  }

  clear(): void {
    const shown = this.shown;
    this.shown = undefined;
    this.atCursor = undefined;
    if (shown) {
      shown.editor.setDecorations(this.deleted, []);
      shown.editor.setDecorations(this.inserted, []);
      void vscode.commands.executeCommand("setContext", VISIBLE_CONTEXT, false);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.pending?.cancel();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
