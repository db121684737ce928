/**
 * ghostls in a real VS Code (code-server 4.100.3 in headless Chromium), against the
 * real ghostls server and a fake backend that streams slowly. One code-server instance
 * serves every scenario, in order; each scenario saves a screenshot.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, FakeBackend, fakeBackendSettings, freshShots, freshWorkspace, ghostTextOn, python, screenshots, waitFor } from "./harness";
import { serverOffersCommand } from "./lsp";

const MODEL = "fake-coder-e2e";
const BODY = "otal = a + b\n    total = total * 1\n    return total\n";
const shots = path.join(extensionRoot, ".e2e", "screenshots");

let backend: FakeBackend;
let vscode: CodeServer;
let page: Page;
let workspace: string;

const ghostText = (): Promise<string> => ghostTextOn(page);
const { shot, scenario } = screenshots(shots, () => page);

describe("ghostls in VS Code (code-server)", () => {

  before(async () => {
    assert.ok(fs.existsSync(python), `${python} missing: run scripts/setup.sh`);
    freshShots(shots);
    const { root, workspace: project } = freshWorkspace("e2e");
    workspace = project;
    fs.writeFileSync(path.join(workspace, "main.py"), "def add(a, b):\n    \n");
    backend = await FakeBackend.start({ replies: [{ text: BODY }], ttft_ms: 100, token_interval_ms: 120 });
    vscode = await CodeServer.start(
      root,
      workspace,
      fakeBackendSettings(backend.url, MODEL, {
        "ghostls.completion.multiline": "always",
        "editor.autoClosingBrackets": "never",
        "editor.autoClosingQuotes": "never",
      }),
    );
    page = vscode.page;
    const row = page.locator('.monaco-list-row[aria-label*="main.py"], .monaco-list-row:has-text("main.py")').first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.locator(".monaco-editor .view-lines").first().waitFor();
  });

  after(async () => {
    await vscode?.stop();
    backend?.stop();
  });

  scenario("shows the model in the status bar", async () => {
    await page.locator(`.statusbar-item:has-text("${MODEL}")`).first().waitFor({ timeout: 60_000 });
    await shot("1-status-model");
  });

  let firstSeen = "";
  scenario("shows ghost text after typing", async () => {
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("End");
    await page.keyboard.type("t");
    // The server answers with what the model wrote so far (the first line or less).
    await waitFor(async () => (firstSeen = await ghostText()).startsWith("otal"), 30_000, "ghost text", ghostText);
    await shot("2-ghost-text");
  });

  scenario("grows the ghost text while the backend streams", async () => {
    assert.ok(!firstSeen.includes("returntotal"), `first ghost text was already complete: ${firstSeen}`);
    await waitFor(async () => (await ghostText()).includes("returntotal"), 30_000, "the streamed rest", ghostText);
    assert.ok((await ghostText()).includes("otal=a+b"), await ghostText());
    await shot("3-ghost-text-grown");
  });

  scenario("keeps the suggestion on a matching keystroke without a new backend request", async () => {
    await waitFor(async () => (await backend.log()).every((r) => r.finished || r.disconnected), 30_000, "stream end");
    const before = (await backend.log()).length;
    await page.keyboard.type("o");
    await waitFor(async () => (await ghostText()).includes("tal=a+b") && !(await ghostText()).includes("otal=a+b"), 10_000, "ghost text after 'o'", ghostText);
    assert.ok((await ghostText()).includes("returntotal"), await ghostText());
    assert.equal((await backend.log()).length, before, "a matching keystroke reached the backend");
    await shot("4-typed-through");
  });

  scenario("Tab inserts the suggestion into the saved file", async () => {
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "main.py");
    await waitFor(() => fs.readFileSync(file, "utf8").includes("return total"), 10_000, "saved file");
    assert.equal(fs.readFileSync(file, "utf8"), `def add(a, b):\n    t${BODY}`);
    await shot("5-accepted");
  });

  scenario("a contradicting keystroke makes the backend see a disconnect", async () => {
    // A new top-level line: the cut is multi-line there, so the slow stream is still
    // running (distinct lines, 400 ms a token) when its first line is shown.
    const lines = Array.from({ length: 20 }, (_, i) => `value_${i} = ${i}\n`).join("");
    await backend.script({ replies: [{ text: lines }], ttft_ms: 50, token_interval_ms: 400 });
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Alt+Backslash");
    await waitFor(async () => (await ghostText()).includes("value_0"), 30_000, "slow ghost text");
    const shown = (await backend.log()).length - 1;
    const record = (await backend.log())[shown];
    assert.ok(!record.finished && !record.disconnected, "the stream ended before the contradicting keystroke");
    await shot("6-before-contradiction");
    await page.keyboard.type("#");
    await waitFor(async () => (await backend.log())[shown].disconnected, 10_000, "backend disconnect");
    await shot("7-contradicted");
  });

  scenario("Explain streams Markdown into a side panel (when the server offers code actions)", async (t) => {
    if (!(await serverOffersCommand(python, "ghostls.runAction"))) {
      t.skip("the server does not offer ghostls.runAction yet");
      return;
    }
    await backend.script({ replies: [{ text: "This function **adds** two numbers and returns their sum." }], ttft_ms: 50, token_interval_ms: 100 });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+.");
    await page.getByText("ghostls: Explain").first().waitFor({ timeout: 20_000 });
    // The action list is keyboard driven: Document, Edit with instruction…, Explain.
    await page.keyboard.type("Explain");
    await page.keyboard.press("Enter");
    await waitFor(async () => {
      for (const frame of page.frames()) {
        const text = await frame.locator("#ghostls-action").textContent({ timeout: 100 }).catch(() => null);
        if (text?.includes("adds two numbers")) return true;
      }
      return false;
    }, 30_000, "explanation in the side panel");
    await shot("8-explain");
  });
});
