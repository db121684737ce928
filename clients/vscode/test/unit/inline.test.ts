import { executed, stub, Position, Range, Uri, WorkspaceEdit } from "./vscodeStub";
import assert from "node:assert/strict";
import { test } from "node:test";
import { plainEdit } from "../../src/actions";
import { DID_PARTIALLY_ACCEPT, DID_SHOW, InlineStreaming } from "../../src/inline";

const AUTOMATIC = { triggerKind: 1 };
const INVOKE = { triggerKind: 0 };

function documentOf(lines: string[], version = 1) {
  return {
    uri: { toString: () => "file:///a.py" },
    languageId: "python",
    version,
    getText(range: { start: Position; end: Position }): string {
      if (range.start.line !== range.end.line) throw new Error("single-line stub");
      return lines[range.start.line].slice(range.start.character, range.end.character);
    },
  };
}

const item = (text: string, id = "5:0") => ({ insertText: text, command: { command: "ghostls.accepted", arguments: [id] } });
const token = { isCancellationRequested: false };

function setup(answers: string[] = ["return a"]) {
  const reports: [string, Record<string, unknown>][] = [];
  const inline = new InlineStreaming(() => true, (method, params) => reports.push([method, params as Record<string, unknown>]));
  const asked: unknown[] = [];
  const next = async (_doc: unknown, _at: unknown, context: unknown) => {
    asked.push(context);
    return [item(answers[Math.min(asked.length - 1, answers.length - 1)], `${asked.length}:0`)];
  };
  const call = (doc: ReturnType<typeof documentOf>, at: Position, context: object = AUTOMATIC) =>
    inline.provide(doc as never, at as never, context as never, token as never, next as never);
  return { inline, call, asked, reports };
}

test("the first answer comes from the server; typing through and updates come from the cache", async () => {
  const { inline, call, asked } = setup();
  const doc = documentOf(["    "]);
  assert.deepEqual(((await call(doc, new Position(0, 4))) as { insertText: string }[])[0].insertText, "return a");
  assert.equal(asked.length, 1);

  stub.window.activeTextEditor = { document: doc };
  executed.length = 0;
  const at = { line: 0, character: 4 };
  await inline.onUpdate({ uri: "file:///a.py", version: 1, position: at, itemId: "1:0", text: "return a + b", done: false });
  assert.deepEqual(executed, [], "mid-stream: no re-trigger (VS Code would drop it, or blink if hidden first)");
  await inline.onUpdate({ uri: "file:///a.py", version: 1, position: at, itemId: "1:0", text: "return a + b", done: true });
  assert.deepEqual(executed, ["editor.action.inlineSuggest.trigger"], "the end: one re-trigger, without hiding");

  const typed = documentOf(["    ret"], 2);
  const served = (await call(typed, new Position(0, 7))) as { insertText: string; command: { arguments: string[] } }[];
  assert.equal(served[0].insertText, "urn a + b");
  assert.deepEqual(served[0].command.arguments, ["1:0"]);
  assert.equal(asked.length, 1);

  const contradicted = documentOf(["    rex"], 3);
  await call(contradicted, new Position(0, 7));
  assert.equal(asked.length, 2);
});

test("a suggestion asked for explicitly is hidden before its re-trigger", async () => {
  const { inline, call } = setup();
  const doc = documentOf(["    "]);
  await call(doc, new Position(0, 4), INVOKE);
  stub.window.activeTextEditor = { document: doc };
  executed.length = 0;
  await inline.onUpdate({ uri: "file:///a.py", version: 1, position: { line: 0, character: 4 }, itemId: "1:0", text: "return a + b", done: true });
  assert.deepEqual(executed, ["editor.action.inlineSuggest.hide", "editor.action.inlineSuggest.trigger"]);
});

test("didShowCompletion: once per server item, naming it as the server sent it", async () => {
  const { call, reports } = setup();
  await call(documentOf(["    "]), new Position(0, 4));
  await call(documentOf(["    r"], 2), new Position(0, 5));
  await call(documentOf(["    re"], 3), new Position(0, 6));
  assert.deepEqual(reports, [
    [
      DID_SHOW,
      {
        item: {
          insertText: "return a",
          range: { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } },
          command: { title: "ghostls: accepted", command: "ghostls.accepted", arguments: ["1:0"] },
        },
      },
    ],
  ]);
});

test("a word accepted: didPartiallyAcceptCompletion counts UTF-16 units from the item's start", async () => {
  const { inline, call, reports } = setup(["naïve = '🎉'"]);
  const lines = ["x = "];
  const doc = { ...documentOf(lines), version: 1 };
  await call(doc, new Position(0, 4));
  reports.length = 0;
  const editor = { document: doc, selection: { active: new Position(0, 4) } };
  stub.window.activeTextEditor = editor;
  // VS Code's acceptNextWord inserts "naïve " (after the user typed nothing).
  stub.onCommand = (command) => {
    if (!command.endsWith("acceptNextWord")) return;
    lines[0] = "x = naïve ";
    doc.version = 2;
    editor.selection = { active: new Position(0, 10) };
  };
  await inline.acceptPart("Word");
  stub.onCommand = undefined;
  assert.equal(reports.length, 1);
  assert.equal(reports[0][0], DID_PARTIALLY_ACCEPT);
  assert.equal(reports[0][1].acceptedLength, 6);
  assert.equal((reports[0][1].item as { insertText: string }).insertText, "naïve = '🎉'");
});

test("with the suggest widget open: a matching live suggestion is widened to the selected item's range", async () => {
  const { call, asked } = setup(["otal = a + b"]);
  await call(documentOf(["    t"]), new Position(0, 5));
  assert.equal(asked.length, 1);
  const widget = (text: string) => ({ ...AUTOMATIC, selectedCompletionInfo: { range: new Range(new Position(0, 4), new Position(0, 5)), text } });
  const [shown] = (await call(documentOf(["    t"]), new Position(0, 5), widget("total"))) as { insertText: string; range: Range }[];
  assert.equal(shown.insertText, "total = a + b");
  assert.deepEqual(shown.range, new Range(new Position(0, 4), new Position(0, 5)));
  assert.equal(asked.length, 1, "answered from the cache");

  // Another item selected: the server answers for it; the live suggestion stays.
  await call(documentOf(["    t"]), new Position(0, 5), widget("tax_rate"));
  assert.equal(asked.length, 2);
  assert.ok((asked[1] as { selectedCompletionInfo?: unknown }).selectedCompletionInfo);
  await call(documentOf(["    t"]), new Position(0, 5));
  assert.equal(asked.length, 2, "the widget closed: the live suggestion still answers");
});

test("nothing is asked while disabled", async () => {
  const inline = new InlineStreaming(() => false);
  const result = await inline.provide({} as never, {} as never, {} as never, {} as never, (() => assert.fail("asked")) as never);
  assert.equal(result, undefined);
});

test("an accepted change is applied without its change annotations (no second Refactor Preview)", () => {
  const uri = new Uri("file:///a.py");
  const annotated = new WorkspaceEdit();
  annotated.replace(uri, new Range(new Position(0, 0), new Position(1, 0)), "def add(a, b):\n", { needsConfirmation: true, label: "ghostls: Fix" });
  const plain = plainEdit(annotated as never) as unknown as WorkspaceEdit;
  const [[target, edits]] = plain.entries();
  assert.equal(target, uri);
  assert.equal(edits[0].newText, "def add(a, b):\n");
  assert.equal(edits[0].metadata, undefined);
});
