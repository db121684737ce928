--- Defaults and the merged configuration (`require("ghostls").setup(opts)`).
--- Every key is optional; see `:help ghostls-config`.
local M = {}

---@class ghostls.Keymaps
---@field accept string|false       accept the whole suggestion (falls through when none)
---@field accept_word string|false
---@field accept_line string|false
---@field dismiss string|false
---@field next string|false
---@field prev string|false

M.defaults = {
  -- The language server. `ghostls serve` speaks LSP over stdio.
  cmd = { "ghostls", "serve" },
  -- Passed to the server as initializationOptions and answered for workspace/configuration
  -- section "ghostls" (docs/settings.md): backend, completion, ...
  settings = {},
  -- Stream suggestions: show the first line at once, grow as the model writes.
  streaming = true,
  -- Filetypes to attach to; nil attaches to every normal file buffer.
  filetypes = nil,
  -- Files/dirs that mark a project root: one server per root.
  root_markers = { ".git", "pyproject.toml", "package.json", "Cargo.toml", "go.mod" },
  -- Milliseconds between the last keystroke and the request.
  debounce_ms = 50,
  -- Request automatically while typing (TextChangedI / InsertEnter).
  auto_trigger = true,
  -- Keymaps in Insert mode. None is set unless given here (false = not mapped).
  keymaps = {
    accept = false,
    accept_word = false,
    accept_line = false,
    dismiss = false,
    next = false,
    prev = false,
  },
  -- Neovim >= 0.12: let the built-in vim.lsp.inline_completion draw and accept
  -- suggestions instead of this plugin's renderer (no streaming there).
  builtin = false,
  -- Highlight group for the ghost text.
  hl_group = "GhostlsSuggestion",
  -- Action results: floating window size limits.
  float = { max_width = 100, max_height = 30, border = "rounded" },
  -- While the model loads for longer than `after_ms`: a message and a hint at the
  -- cursor's line end ("ghostls: loading <model>…"), then "ready".
  notice = { enabled = true, after_ms = 500 },
}

M.options = vim.deepcopy(M.defaults)

---@param opts table|nil
function M.set(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.filetypes then
    M.options.filetypes = opts.filetypes
  end
  return M.options
end

--- True when the built-in renderer is asked for and available.
function M.use_builtin()
  return M.options.builtin and vim.lsp.inline_completion ~= nil
end

--- The settings object sent as initializationOptions.
function M.init_options()
  local settings = vim.deepcopy(M.options.settings or {})
  -- The built-in renderer ignores ghostls/inlineCompletionUpdate: ask for whole answers.
  settings.streaming = M.options.streaming and not M.use_builtin()
  return settings
end

return M
