/**
 * Inline completion middleware: answers from the live stream cache when it can (no
 * server round trip), otherwise asks the server and remembers its answer. When the
 * stream ends, VS Code's inline suggestion is re-triggered once, lands here again and
 * is answered from the cache, so the ghost text shows the whole suggestion; typing
 * through a suggestion also shows the newest text.
 *
 * Reports to the server (Copilot's notifications, docs/protocol.md): a suggestion
 * given to VS Code to draw (`textDocument/didShowCompletion`, once per item) and a
 * word or line of it accepted (`textDocument/didPartiallyAcceptCompletion`, through
 * `acceptPart`). The full accept is the item's own `ghostls.accepted` command.
 */
import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import { fromLineStart, lineStartText, replacedChars, StreamCache, type Live, type UpdateParams } from "./streamCache";

type Next = Parameters<NonNullable<Middleware["provideInlineCompletionItems"]>>[4];

export const DID_SHOW = "textDocument/didShowCompletion";
export const DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion";
export type Report = (method: string, params: object) => void;

/** The server's item as it sent it: the reports name it by its command's item id. */
export function wireItem(live: Pick<Live, "itemId" | "text" | "position">): object {
  const at = { line: live.position.line, character: live.position.character };
  return {
    insertText: live.text,
    range: { start: at, end: at },
    command: { title: "ghostls: accepted", command: "ghostls.accepted", arguments: [live.itemId] },
  };
}

export class InlineStreaming {
  readonly cache = new StreamCache();
  private readonly shown = new Set<string>();
  // How VS Code asked last: it re-asks at an unchanged cursor and document only when
  // its last answer came from an automatic request and the new one is explicit (any
  // other re-trigger is dropped unless it hides the ghost text first, which blanks it).
  private lastTrigger: vscode.InlineCompletionTriggerKind | undefined;

  constructor(
    private readonly isEnabled: (document: vscode.TextDocument) => boolean,
    private readonly report: Report = () => undefined,
  ) {}

  async provide(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: Next,
  ): Promise<vscode.InlineCompletionItem[] | vscode.InlineCompletionList | undefined | null> {
    if (!this.isEnabled(document)) return undefined;
    this.lastTrigger = context.triggerKind;
    const uri = document.uri.toString();
    const selected = context.selectedCompletionInfo;
    const live = this.cache.get(uri);
    if (live) {
      const start = new vscode.Position(live.position.line, live.position.character);
      const typed = position.isBefore(start) ? "\u0000" : document.getText(new vscode.Range(start, position));
      const hit = this.cache.lookup(uri, position, typed);
      if (hit) {
        const command: vscode.Command = { title: "ghostls: accepted", command: "ghostls.accepted", arguments: [live.itemId] };
        // The replaced closing characters are still right after the cursor.
        const end = position.translate(0, hit.entry.replace ?? 0);
        const dedent = hit.entry.dedent ?? 0;
        if (dedent > 0) {
          // It removes some of the line's indentation: over the line from its start, as
          // the server's item (VS Code draws the text after the indentation as ghost
          // text and applies the whole edit on accept).
          const lineStart = new vscode.Position(position.line, 0);
          const head = document.getText(new vscode.Range(lineStart, position));
          const text = selected ? undefined : lineStartText(head, dedent, hit.remaining);
          if (text === undefined) return this.fromServer(document, position, context, token, next, false);
          this.noteShown(live, token);
          return [new vscode.InlineCompletionItem(text, new vscode.Range(lineStart, end), command)];
        }
        if (!selected) {
          this.noteShown(live, token);
          return [new vscode.InlineCompletionItem(hit.remaining, new vscode.Range(position, end), command)];
        }
        // The suggest widget is open: VS Code shows ghost text only for an item over
        // the selected item's range that starts with its text.
        const before = document.getText(new vscode.Range(selected.range.start, position));
        if ((before + hit.remaining).startsWith(selected.text) && !position.isBefore(selected.range.end)) {
          this.noteShown(live, token);
          return [new vscode.InlineCompletionItem(before + hit.remaining, new vscode.Range(selected.range.start, end), command)];
        }
        // Otherwise the server answers for the selected item applied; the live
        // suggestion stays for when the widget closes.
        return this.fromServer(document, position, context, token, next, false);
      }
      this.cache.forget(uri);
    }
    return this.fromServer(document, position, context, token, next, !selected);
  }

  private async fromServer(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: Next,
    remember: boolean,
  ): Promise<vscode.InlineCompletionItem[] | vscode.InlineCompletionList | undefined | null> {
    const uri = document.uri.toString();
    const version = document.version;
    const result = await next(document, position, context, token);
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    const first = items[0];
    const itemId = first?.command?.arguments?.[0];
    if (first && typeof first.insertText === "string" && typeof itemId === "string" && document.version === version) {
      let start = first.range?.start ?? position;
      let text = first.insertText;
      let dedent = 0;
      if (first.range && start.line === position.line && start.character < position.character) {
        // Over the line from its start: the suggestion removes some indentation.
        const placed = fromLineStart(document.getText(new vscode.Range(start, position)), text);
        if (placed) [start, text, dedent] = [position, placed.text, placed.dedent];
      }
      const entry: Live = {
        uri,
        version,
        position: { line: start.line, character: start.character },
        itemId,
        text,
        done: false,
        replace: replacedChars(first.range, position),
        dedent,
      };
      if (remember) this.cache.remember(entry);
      this.noteShown(entry, token);
    }
    return result;
  }

  /** `didShowCompletion`, once per server item (a growing item is still one item). */
  private noteShown(live: Live, token: vscode.CancellationToken): void {
    if (token.isCancellationRequested || this.shown.has(live.itemId)) return;
    this.shown.add(live.itemId);
    if (this.shown.size > 256) this.shown.delete(this.shown.values().next().value as string);
    this.report(DID_SHOW, { item: wireItem(live) });
  }

  /**
   * Accept the next word or line of the ghost text (VS Code's own command), then
   * report how much of the server's item is now in the document: UTF-16 code units
   * from the start of its `insertText` (what was typed through counts too).
   */
  async acceptPart(kind: "Word" | "Line"): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const live = editor && this.cache.get(editor.document.uri.toString());
    const version = editor?.document.version;
    await vscode.commands.executeCommand(`editor.action.inlineSuggest.acceptNext${kind}`);
    if (!editor || !live || editor.document.version === version) return;
    const start = new vscode.Position(live.position.line, live.position.character);
    const cursor = editor.selection.active;
    if (cursor.isBefore(start)) return;
    const typed = editor.document.getText(new vscode.Range(start, cursor));
    if (typed.length > 0 && typed.length < live.text.length && live.text.startsWith(typed)) {
      this.report(DID_PARTIALLY_ACCEPT, { item: wireItem(live), acceptedLength: typed.length });
    }
  }

  private triggering = false;
  private again = false;

  /**
   * A `ghostls/inlineCompletionUpdate`. VS Code 1.100 re-asks a provider at the same
   * cursor and document version only once (see `lastTrigger`); hiding the ghost text
   * to force more re-asks makes it blink. So the text that grows mid-stream shows on
   * the next keystroke (each one is a new request, answered from the cache), and the
   * whole suggestion shows when the stream ends, by one re-trigger that does not hide.
   */
  async onUpdate(update: UpdateParams): Promise<void> {
    const changed = this.cache.applyUpdate(update);
    const editor = vscode.window.activeTextEditor;
    if (!changed || !update.done || !editor || editor.document.uri.toString() !== update.uri) return;
    if (this.triggering) {
      this.again = true;
      return;
    }
    this.triggering = true;
    try {
      do {
        this.again = false;
        if (this.lastTrigger === vscode.InlineCompletionTriggerKind.Invoke) {
          // Asked explicitly (Alt+\): VS Code would drop the re-trigger; the one case
          // left that hides first.
          await vscode.commands.executeCommand("editor.action.inlineSuggest.hide");
        }
        await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
      } while (this.again);
    } finally {
      this.triggering = false;
    }
  }
}
