--- ghostls for Neovim: AI ghost text and code actions from the ghostls language server.
---
--- `require("ghostls").setup(opts)` starts one ghostls client per project root (via
--- `vim.lsp.start`) for matching buffers, draws streamed suggestions as extmarks (or
--- hands them to `vim.lsp.inline_completion` on 0.12 when `builtin = true`), and sets
--- the keymaps given in `opts.keymaps`. See `:help ghostls`.
local config = require("ghostls.config")
local ghost = require("ghostls.ghost")

local api = vim.api
local M = {}

--- Latest ghostls/status per client id.
---@type table<integer, table>
M.status = {}

local function on_status(_, params, ctx)
  M.status[ctx.client_id] = params
  require("ghostls.notice").on_status(ctx.client_id, params)
  api.nvim_exec_autocmds("User", { pattern = "GhostlsStatus", modeline = false, data = params })
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  -- Declared even on 0.11 (whose LSP client has no inline completion): this plugin
  -- sends the requests, and the server then skips its completion-menu fallback.
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion
    or { dynamicRegistration = false }
  return caps
end

local function menu_visible()
  if vim.fn.pumvisible() == 1 then
    return true
  end
  local ok_cmp, cmp = pcall(require, "cmp")
  if ok_cmp and type(cmp.visible) == "function" and cmp.visible() then
    return true
  end
  local ok_blink, blink = pcall(require, "blink.cmp")
  return ok_blink and type(blink.is_visible) == "function" and blink.is_visible() or false
end

--- An Insert-mode expr mapping that does `action` when a suggestion is shown and no
--- completion menu is open, and otherwise types its own key.
local function map_accept(bufnr, lhs, kind)
  vim.keymap.set("i", lhs, function()
    if menu_visible() then
      return lhs
    end
    if config.use_builtin() then
      return vim.lsp.inline_completion.get({ bufnr = bufnr }) and "" or lhs
    end
    if not ghost.visible(bufnr) then
      return lhs
    end
    return ("<Cmd>lua require('ghostls.ghost').accept(%q)<CR>"):format(kind)
  end, { buffer = bufnr, expr = true, silent = true, desc = "ghostls: accept " .. kind })
end

local function set_keymaps(bufnr)
  local keys = config.options.keymaps or {}
  if keys.accept then
    map_accept(bufnr, keys.accept, "all")
  end
  if keys.accept_word then
    map_accept(bufnr, keys.accept_word, "word")
  end
  if keys.accept_line then
    map_accept(bufnr, keys.accept_line, "line")
  end
  local function plain(lhs, fn, desc)
    if lhs then
      vim.keymap.set("i", lhs, fn, { buffer = bufnr, silent = true, desc = "ghostls: " .. desc })
    end
  end
  plain(keys.dismiss, function()
    ghost.clear(bufnr)
  end, "dismiss")
  plain(keys.next, function()
    M.cycle(1)
  end, "next suggestion")
  plain(keys.prev, function()
    M.cycle(-1)
  end, "previous suggestion")
end

function M.cycle(step)
  if config.use_builtin() then
    vim.lsp.inline_completion.select({ count = step })
  else
    ghost.cycle(step)
  end
end

local function on_attach(client, bufnr)
  if config.use_builtin() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  else
    ghost.attach(bufnr)
  end
  set_keymaps(bufnr)
  require("ghostls.nextedit").attach(bufnr) -- next-edit suggestions (nextedit.lua)
end

--- The client config for one root.
function M.client_config(root)
  local settings = config.init_options()
  return {
    name = "ghostls",
    cmd = config.options.cmd,
    root_dir = root,
    init_options = settings,
    settings = { ghostls = settings },
    capabilities = capabilities(),
    -- didChange goes out at once: a contradicting keystroke stops the model now.
    flags = { debounce_text_changes = 0 },
    -- Code actions chosen from Neovim's own menu (`gra`, vim.lsp.buf.code_action) run
    -- here, not as a bare workspace/executeCommand: the answer is shown in a float and
    -- "Edit with instruction…" asks for its instruction first.
    commands = {
      ["ghostls.runAction"] = function(command, ctx)
        require("ghostls.actions").run_command(command, ctx)
      end,
    },
    handlers = {
      ["ghostls/inlineCompletionUpdate"] = ghost.on_update,
      ["ghostls/status"] = on_status,
      ["ghostls/actionStream"] = function(...)
        require("ghostls.actions").on_stream(...)
      end,
      ["ghostls/actionResult"] = function(...)
        require("ghostls.actions").on_result(...)
      end,
    },
    on_attach = on_attach,
  }
end

--- Start (or reuse) the client for this buffer's root and attach it.
function M.attach(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local name = api.nvim_buf_get_name(bufnr)
  if vim.bo[bufnr].buftype ~= "" or name == "" then
    return nil
  end
  local fts = config.options.filetypes
  if fts and not vim.tbl_contains(fts, vim.bo[bufnr].filetype) then
    return nil
  end
  local root = vim.fs.root(bufnr, config.options.root_markers) or vim.fn.getcwd()
  return vim.lsp.start(M.client_config(root), { bufnr = bufnr })
end

function M.setup(opts)
  config.set(opts)
  local group = api.nvim_create_augroup("ghostls", { clear = true })
  api.nvim_create_autocmd("FileType", {
    group = group,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
      M.attach(bufnr)
    end
  end
end

function M.clients()
  return vim.lsp.get_clients({ name = "ghostls" })
end

--- `:Ghostls toggle`: stop or resume suggestions everywhere.
function M.toggle()
  ghost.enabled = not ghost.enabled
  if not ghost.enabled then
    for _, bufnr in ipairs(api.nvim_list_bufs()) do
      ghost.clear(bufnr)
    end
  end
  if config.use_builtin() then
    vim.lsp.inline_completion.enable(ghost.enabled)
  end
  vim.notify("ghostls: suggestions " .. (ghost.enabled and "on" or "off"))
  return ghost.enabled
end

--- One line per client: state, backend, model, last latency.
function M.status_lines()
  local lines = {}
  for _, client in ipairs(M.clients()) do
    local s = M.status[client.id] or {}
    local latency = s.latencyMs ~= nil and s.latencyMs ~= vim.NIL
        and (" %sms"):format(s.latencyMs)
      or ""
    local detail = (s.detail and s.detail ~= vim.NIL and s.detail ~= "") and (" (" .. s.detail .. ")")
      or ""
    lines[#lines + 1] = ("ghostls[%d] %s: %s%s, backend %s, model %s%s%s"):format(
      client.id,
      client.root_dir or "?",
      s.state or "starting",
      detail,
      s.backend or "?",
      s.model or "?",
      latency,
      ghost.enabled and "" or " [suggestions off]"
    )
  end
  if #lines == 0 then
    lines[1] = "ghostls: no client running (open a file, or check :checkhealth ghostls)"
  end
  vim.list_extend(lines, M.stats_lines())
  return lines
end

--- `ghostls/stats` from the first client (the counts are this machine's, kept by every
--- server together), as lines; empty when no server answers.
function M.stats_lines()
  local client = M.clients()[1]
  if not client then
    return {}
  end
  local answer = client:request_sync("ghostls/stats", vim.empty_dict(), 2000)
  local stats = answer and answer.result
  if type(stats) ~= "table" then
    return {}
  end
  local lines = {
    ("suggestions: %d shown, %d accepted, %d partly accepted, %d characters kept"):format(
      stats.shown or 0,
      stats.accepted or 0,
      stats.partiallyAccepted or 0,
      stats.charsAccepted or 0
    ),
  }
  local names = vim.tbl_keys(stats.perBackend or {})
  table.sort(names)
  for _, name in ipairs(names) do
    local b = stats.perBackend[name]
    local function ms(v)
      return type(v) == "number" and ("%dms"):format(v) or "-"
    end
    lines[#lines + 1] = ("  %s: %d requests, first text p50 %s, p90 %s"):format(
      name,
      b.requests or 0,
      ms(b.p50Ms),
      ms(b.p90Ms)
    )
  end
  return lines
end

function M.accept(kind)
  return ghost.accept(kind)
end

return M
