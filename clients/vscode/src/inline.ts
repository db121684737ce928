/**
 * Inline completion middleware: answers from the live stream cache when it can (no
 * server round trip), otherwise asks the server and remembers its answer. Updates
 * from the server re-trigger VS Code's inline suggestion, which lands here again and
 * is answered from the cache, so the ghost text grows in place.
 */
import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import { replacedChars, StreamCache, type UpdateParams } from "./streamCache";

type Next = Parameters<NonNullable<Middleware["provideInlineCompletionItems"]>>[4];

export class InlineStreaming {
  readonly cache = new StreamCache();

  constructor(private readonly isEnabled: (document: vscode.TextDocument) => boolean) {}

  async provide(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
    next: Next,
  ): Promise<vscode.InlineCompletionItem[] | vscode.InlineCompletionList | undefined | null> {
    if (!this.isEnabled(document)) return undefined;
    const uri = document.uri.toString();
    const live = this.cache.get(uri);
    if (live) {
      const start = new vscode.Position(live.position.line, live.position.character);
      const typed = position.isBefore(start) ? "\u0000" : document.getText(new vscode.Range(start, position));
      const hit = this.cache.lookup(uri, position, typed);
      if (hit) {
        const command: vscode.Command = { title: "ghostls: accepted", command: "ghostls.accepted", arguments: [live.itemId] };
        // The replaced closing characters are still right after the cursor.
        const end = position.translate(0, hit.entry.replace ?? 0);
        return [new vscode.InlineCompletionItem(hit.remaining, new vscode.Range(position, end), command)];
      }
      this.cache.forget(uri);
    }
    const version = document.version;
    const result = await next(document, position, context, token);
    const items = Array.isArray(result) ? result : (result?.items ?? []);
    const first = items[0];
    const itemId = first?.command?.arguments?.[0];
    if (first && typeof first.insertText === "string" && typeof itemId === "string" && document.version === version) {
      this.cache.remember({
        uri,
        version,
        position: { line: position.line, character: position.character },
        itemId,
        text: first.insertText,
        done: false,
        replace: replacedChars(first.range),
      });
    }
    return result;
  }

  private triggering = false;
  private again = false;

  /** A `ghostls/inlineCompletionUpdate`: refresh the ghost text if it is on screen. */
  async onUpdate(update: UpdateParams): Promise<void> {
    const changed = this.cache.applyUpdate(update);
    const editor = vscode.window.activeTextEditor;
    if (!changed || !editor || editor.document.uri.toString() !== update.uri) return;
    // Updates arrive faster than VS Code re-renders; a trigger issued while one is
    // running can be dropped, so coalesce them and always trigger once more after the
    // last one, which reads the newest text from the cache.
    if (this.triggering) {
      this.again = true;
      return;
    }
    this.triggering = true;
    try {
      do {
        this.again = false;
        // VS Code 1.100 keeps showing the old text of a suggestion when a re-trigger
        // returns a longer one for the same position; hiding first makes it re-render.
        await vscode.commands.executeCommand("editor.action.inlineSuggest.hide");
        await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
        await new Promise((resolve) => setTimeout(resolve, 25));
      } while (this.again);
    } finally {
      this.triggering = false;
    }
  }
}
