/**
 * A suggestion less indented than the line auto-indent left (issue #19, item 4), in a
 * real VS Code (code-server 4.100.3, headless Chromium), the real ghostls server and a
 * fake backend. After a loop's body the cursor sits in the loop; the model writes
 * `return n` one level out. The server's item replaces the line's whitespace (range
 * from the line's start, text with the model's indentation): VS Code draws the text
 * after the indentation as ghost text at the cursor, and Tab applies the whole edit.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, FakeBackend, fakeBackendSettings, freshShots, freshWorkspace, ghostTextOn, openFile, python, screenshots, waitFor } from "./harness";

const LOOP = "def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n";
const DEDENTED = "def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n    return n\n";
const shots = path.join(extensionRoot, ".e2e", "screenshots-dedent");

let backend: FakeBackend;
let vscode: CodeServer;
let page: Page;
let workspace: string;

const ghostText = (): Promise<string> => ghostTextOn(page);

const { shot, scenario } = screenshots(shots, () => page);

/** Open `name`, go to the end of the loop's body and press Enter: VS Code's auto-indent
 * leaves the cursor in the body (eight spaces), and asks for a suggestion there. */
async function onNewLineAfterTheLoop(name: string): Promise<void> {
  await openFile(page, name);
  await page.keyboard.press("Control+Home");
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
}

async function savedAs(name: string, expected: string): Promise<void> {
  await page.keyboard.press("Control+S");
  const file = path.join(workspace, name);
  await waitFor(() => fs.readFileSync(file, "utf8").includes("return n"), 10_000, `${name} saved`);
  assert.equal(fs.readFileSync(file, "utf8"), expected);
}

describe("a suggestion that removes indentation, in VS Code (code-server)", () => {
  before(async () => {
    assert.ok(fs.existsSync(python), `${python} missing: run scripts/setup.sh`);
    freshShots(shots);
    const { root, workspace: project } = freshWorkspace("dedent");
    workspace = project;
    fs.writeFileSync(path.join(workspace, "loop.py"), LOOP);
    fs.writeFileSync(path.join(workspace, "typed.py"), LOOP);
    backend = await FakeBackend.start({ replies: [{ text: "    return n\n\nprint(f([1]))\n" }], ttft_ms: 50, token_interval_ms: 60 });
    vscode = await CodeServer.start(root, workspace, fakeBackendSettings(backend.url, "fake-coder-dedent"));
    page = vscode.page;
    await page.locator('.statusbar-item:has-text("fake-coder-dedent")').first().waitFor({ timeout: 90_000 });
  });

  after(async () => {
    await vscode?.stop();
    backend?.stop();
  });

  scenario("shows the dedented line as ghost text and Tab removes the extra indentation", async () => {
    await onNewLineAfterTheLoop("loop.py");
    await waitFor(async () => (await ghostText()) === "returnn", 30_000, "ghost text", ghostText);
    await shot("1-ghost-text");
    await page.keyboard.press("Tab");
    await savedAs("loop.py", DEDENTED);
    await shot("2-accepted");
  });

  scenario("typing through keeps it, and Tab still dedents", async () => {
    await onNewLineAfterTheLoop("typed.py");
    await waitFor(async () => (await ghostText()) === "returnn", 30_000, "ghost text", ghostText);
    const asked = (await backend.log()).length;
    await page.keyboard.type("re");
    await waitFor(async () => (await ghostText()) === "turnn", 10_000, "ghost text after 're'", ghostText);
    await shot("3-typed-through");
    assert.equal((await backend.log()).length, asked, "a matching keystroke reached the backend");
    await page.keyboard.press("Tab");
    await savedAs("typed.py", DEDENTED);
  });
});
