/**
 * A new user as the README has them: VS Code's default settings, the embedded engine
 * with a local GGUF (`ghostls.backend.modelPath`), a real model on this machine's CPU.
 * Opt-in (slow): GHOSTLS_E2E_MODEL=/path/to/model.gguf npm run test:e2e
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, freshShots, freshWorkspace, python, waitFor } from "./harness";

const MODEL = process.env.GHOSTLS_E2E_MODEL;
const shots = path.join(extensionRoot, ".e2e", "screenshots-embedded");

describe("a new user with the embedded model (GHOSTLS_E2E_MODEL)", { skip: !MODEL && "GHOSTLS_E2E_MODEL is not set" }, () => {
  let vscode: CodeServer;
  let page: Page;
  let workspace: string;

  before(async () => {
    freshShots(shots);
    const { root, workspace: project } = freshWorkspace("embedded");
    workspace = project;
    fs.writeFileSync(path.join(workspace, "fib.py"), "def fibonacci(n):\n    \n");
    vscode = await CodeServer.start(root, workspace, {
      "ghostls.pythonPath": python,
      "ghostls.backend.kind": "embedded",
      "ghostls.backend.modelPath": MODEL,
      // This machine's CPU is shared: more than the default 8 s per suggestion.
      "ghostls.completion.timeoutMs": 120_000,
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": false,
    });
    page = vscode.page;
    const row = page.locator('.monaco-list-row:has-text("fib.py")').first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    // The model's name in the status bar: the server runs and has loaded it.
    await page.locator(`.statusbar-item:has-text("${path.basename(MODEL ?? "")}")`).first().waitFor({ timeout: 300_000 });
    await page.locator(".monaco-editor .view-lines").first().click();
  });

  after(async () => {
    await vscode?.stop();
  });

  it("shows a suggestion and applies an accepted edit", async () => {
    try {
      await newUser();
    } catch (error) {
      await page.screenshot({ path: path.join(shots, "failed.png") }).catch(() => undefined);
      throw error;
    }
  });

  async function newUser(): Promise<void> {
    await page.keyboard.press("Control+End");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("End");
    await page.keyboard.type("if n");
    const ghost = page.locator(".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text").first();
    await ghost.waitFor({ timeout: 180_000 });
    await page.screenshot({ path: path.join(shots, "1-suggestion.png") });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "fib.py");
    const typed = "def fibonacci(n):\n    if n\n";
    await waitFor(() => fs.readFileSync(file, "utf8") === typed, 30_000, "the typed text saved");
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("Control+.");
    await page.getByText("ghostls: Edit with instruction").first().waitFor({ timeout: 60_000 });
    await page.keyboard.type("Edit with");
    await page.keyboard.press("Enter");
    await page.locator(".quick-input-widget input").first().waitFor();
    await page.keyboard.type("add a docstring");
    await page.keyboard.press("Enter");
    const accept = page.locator('.notification-toast .monaco-button:has-text("Accept")').first();
    await accept.waitFor({ timeout: 300_000 });
    await page.screenshot({ path: path.join(shots, "2-proposed.png") });
    await accept.click();
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+S");
    await waitFor(() => fs.readFileSync(file, "utf8") !== typed, 30_000, "the accepted edit saved", async () =>
      fs.readFileSync(file, "utf8"),
    );
    await page.screenshot({ path: path.join(shots, "3-applied.png") });
    assert.notEqual(fs.readFileSync(file, "utf8"), typed);
  }
});
