/**
 * ghostls in a real VS Code (code-server 4.100.3, headless Chromium) with VS Code's
 * DEFAULT editor settings — quick suggestions on, as a new user has them — against the
 * real ghostls server and a fake backend that streams slowly. Only ghostls's own
 * settings (the fake backend) and workbench noise (welcome page, tips) are set.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import type { Page } from "playwright-core";
import { CodeServer, extensionRoot, FakeBackend, freshShots, freshWorkspace, ghostTextOn, openFile as openFileIn, python, screenshots, waitFor } from "./harness";
import { serverAnswers, serverOffersCommand } from "./lsp";

const MODEL = "fake-coder-defaults";
const shots = path.join(extensionRoot, ".e2e", "screenshots-defaults");

let backend: FakeBackend;
let vscode: CodeServer;
let page: Page;
let workspace: string;

const ghostText = (): Promise<string> => ghostTextOn(page);
const { shot, scenario } = screenshots(shots, () => page);
const openFile = (name: string): Promise<void> => openFileIn(page, name);

async function runCommand(title: string): Promise<void> {
  await page.keyboard.press("F1");
  await page.locator(".quick-input-widget input").first().waitFor();
  await page.keyboard.type(title);
  await page.locator(`.quick-input-list .monaco-list-row:has-text("${title.replace(/^[^:]+: /, "")}")`).first().waitFor();
  await page.keyboard.press("Enter");
}

/** Every ghost text the page held, sampled at each DOM change and each frame. */
async function startSampling(): Promise<void> {
  await page.evaluate(() => {
    const read = () =>
      Array.from(document.querySelectorAll(".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text"))
        .filter((element) => !element.parentElement?.closest(".ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text"))
        .map((element) => element.textContent ?? "")
        .join("")
        .replace(/[\s\u00a0]+/g, "");
    const state = { samples: [] as string[], stop: false };
    (window as unknown as { ghostSamples: typeof state }).ghostSamples = state;
    const sample = () => {
      const text = read();
      if (state.samples[state.samples.length - 1] !== text) state.samples.push(text);
    };
    new MutationObserver(sample).observe(document.body, { childList: true, subtree: true, characterData: true });
    const frame = () => {
      sample();
      if (!state.stop) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

async function stopSampling(): Promise<string[]> {
  return page.evaluate(() => {
    const state = (window as unknown as { ghostSamples: { samples: string[]; stop: boolean } }).ghostSamples;
    state.stop = true;
    return state.samples;
  });
}

describe("ghostls in VS Code with its default settings", () => {
  before(async () => {
    assert.ok(fs.existsSync(python), `${python} missing: run scripts/setup.sh`);
    freshShots(shots);
    const { root, workspace: project } = freshWorkspace("defaults");
    workspace = project;
    fs.writeFileSync(path.join(workspace, "rates.py"), "def compute(a):\n    tax_rate = 0.2\n    \n");
    fs.writeFileSync(path.join(workspace, "grow.py"), "def add(a, b):\n    \n");
    fs.writeFileSync(path.join(workspace, "edit.py"), "def add(a, b):\n    return a - b\n");
    backend = await FakeBackend.start({ replies: [{ text: "" }] });
    vscode = await CodeServer.start(root, workspace, {
      "ghostls.pythonPath": python,
      "ghostls.backend.kind": "openai",
      "ghostls.backend.url": backend.url,
      "ghostls.backend.model": MODEL,
      "ghostls.completion.multiline": "always",
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "security.workspace.trust.enabled": false,
      "extensions.ignoreRecommendations": true,
      "chat.commandCenter.enabled": false,
    });
    page = vscode.page;
    await page.locator(`.statusbar-item:has-text("${MODEL}")`).first().waitFor({ timeout: 90_000 });
  });

  after(async () => {
    await vscode?.stop();
    backend?.stop();
  });

  scenario("ghost text shows while the word-suggest widget is open", async () => {
    // The widget lists the document's word `tax_rate` for the typed `t`; the model is
    // asked for the text with that item applied, and its answer extends it.
    await backend.script({
      replies: [{ text: " = a * tax_rate", when: "    tax_rate<|fim_suffix|>" }, { text: "otal = 0" }],
      ttft_ms: 50,
      token_interval_ms: 20,
    });
    await openFile("rates.py");
    await page.keyboard.press("Control+End");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("End");
    await page.keyboard.type("t");
    const widget = page.locator(".suggest-widget.visible");
    await widget.first().waitFor({ timeout: 20_000 });
    await waitFor(async () => (await ghostText()).includes("=a*tax_rate"), 30_000, "ghost text beside the widget", ghostText);
    assert.ok(await widget.first().isVisible(), "the suggest widget closed");
    await shot("1-ghost-text-with-suggest-widget");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
  });

  scenario("a growing suggestion never blanks", async () => {
    // `s` starts no word of the open documents: no suggest widget here.
    const body = "um = a + b\n    sum = sum * 2\n    sum = sum - 1\n    return sum\n";
    await backend.script({ replies: [{ text: body }], ttft_ms: 100, token_interval_ms: 150 });
    await openFile("grow.py");
    await page.keyboard.press("Control+End");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("End");
    await page.keyboard.type("s");
    await waitFor(async () => (await ghostText()).startsWith("um"), 30_000, "the first text", ghostText);
    await startSampling();
    await waitFor(async () => (await ghostText()).includes("returnsum"), 30_000, "the whole suggestion", ghostText);
    const samples = await stopSampling();
    assert.ok(samples.length >= 1, "nothing sampled");
    assert.ok(samples.every((text) => text.length > 0), `the ghost text blanked: ${JSON.stringify(samples)}`);
    assert.ok((await ghostText()).includes("um=a+b"), await ghostText());
    await shot("2-grown-without-blanks");
  });

  scenario("Ctrl+Right accepts the next word of the suggestion", async () => {
    // The cursor (status bar) moves over the accepted word: after "s", then after "sum".
    await page.locator('.statusbar-item:has-text("Ln 2, Col 6")').first().waitFor({ timeout: 5_000 });
    await page.keyboard.press("Control+ArrowRight");
    await page.locator('.statusbar-item:has-text("Ln 2, Col 8")').first().waitFor({ timeout: 10_000 });
    assert.ok((await ghostText()).includes("=a+b"), `the rest is no longer shown: ${await ghostText()}`);
    await shot("3-word-accepted");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "grow.py");
    await waitFor(() => fs.readFileSync(file, "utf8").includes("sum"), 10_000, "the word in the saved file", async () => fs.readFileSync(file, "utf8"));
    assert.equal(fs.readFileSync(file, "utf8"), "def add(a, b):\n    sum\n");
  });

  scenario("Accept on an edit action changes the file", async () => {
    if (!(await serverOffersCommand(python, "ghostls.runAction"))) assert.fail("the server offers no ghostls.runAction");
    await backend.script({ replies: [{ text: "```python\ndef add(a, b):\n    return a + b\n```" }], ttft_ms: 20, token_interval_ms: 10 });
    await openFile("edit.py");
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Control+.");
    await page.getByText("ghostls: Edit with instruction").first().waitFor({ timeout: 20_000 });
    await page.keyboard.type("Edit with");
    await page.keyboard.press("Enter");
    await page.locator(".quick-input-widget input").first().waitFor();
    await page.keyboard.type("use a plus");
    await page.keyboard.press("Enter");
    const accept = page.locator('.notification-toast .monaco-button:has-text("Accept")').first();
    await accept.waitFor({ timeout: 30_000 });
    await shot("3-proposed-change");
    await accept.click();
    await page.locator(`.tab.active:has-text("edit.py")`).first().waitFor({ timeout: 10_000 });
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "edit.py");
    await waitFor(() => fs.readFileSync(file, "utf8").includes("return a + b"), 15_000, "the accepted change in the saved file", async () =>
      fs.readFileSync(file, "utf8"),
    );
    assert.equal(fs.readFileSync(file, "utf8"), "def add(a, b):\n    return a + b\n");
    await shot("4-change-accepted");
  });

  scenario("the diff's title-bar Accept works after the notification is gone", async () => {
    await backend.script({ replies: [{ text: "```python\ndef add(a, b):\n    return b + a\n```" }], ttft_ms: 20, token_interval_ms: 10 });
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Control+.");
    await page.getByText("ghostls: Edit with instruction").first().waitFor({ timeout: 20_000 });
    await page.keyboard.type("Edit with");
    await page.keyboard.press("Enter");
    await page.locator(".quick-input-widget input").first().waitFor();
    await page.keyboard.type("swap them");
    await page.keyboard.press("Enter");
    await page.locator('.notification-toast .monaco-button:has-text("Accept")').first().waitFor({ timeout: 30_000 });
    await runCommand("Notifications: Clear All Notifications");
    await page.locator(".notification-toast").first().waitFor({ state: "detached", timeout: 10_000 });
    await page.locator('.editor-actions [aria-label*="Accept the Proposed Change"]').first().click();
    await page.locator(`.tab.active:has-text("edit.py")`).first().waitFor({ timeout: 10_000 });
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+S");
    const file = path.join(workspace, "edit.py");
    await waitFor(() => fs.readFileSync(file, "utf8").includes("return b + a"), 15_000, "the change in the saved file", async () =>
      fs.readFileSync(file, "utf8"),
    );
    await shot("4b-accepted-from-the-title-bar");
  });

  scenario("Run Doctor checks the configured backend and model", async () => {
    await runCommand("ghostls: Run Doctor");
    const output = page.locator(".monaco-editor .view-lines", { hasText: "ghostls doctor" }).first();
    await output.waitFor({ timeout: 30_000 });
    const text = async () => ((await output.textContent()) ?? "").replace(/\u00a0/g, " ");
    await waitFor(async () => (await text()).includes("all checks passed") || (await text()).includes("some checks failed"), 30_000, "the doctor's verdict", text);
    assert.ok((await text()).includes(`openai @ ${backend.url} (model '${MODEL}')`), await text());
    await shot("5-doctor");
  });

  scenario("Show Stats reports what the editor told the server", async () => {
    const supported = await serverAnswers(python, "ghostls/stats");
    await runCommand("ghostls: Show Stats");
    const toast = page.locator(".notification-toast").filter({ hasText: "ghostls" }).last();
    await toast.waitFor({ timeout: 20_000 });
    const text = (await toast.textContent()) ?? "";
    if (!supported) {
      assert.match(text, /not supported by this server/);
      return;
    }
    const shown = Number(/(\d+) shown/.exec(text)?.[1]);
    const partly = Number(/(\d+) partly accepted/.exec(text)?.[1]);
    assert.ok(shown >= 2, text);
    assert.ok(partly >= 1, text);
    await shot("6-stats");
  });
});
