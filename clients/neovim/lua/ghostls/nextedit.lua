--- Next-edit suggestions: the edit the user is about to make, anywhere near the cursor.
---
--- After an edit settles (`next_edit.debounce_ms` without a change), the plugin asks
--- the server (`textDocument/copilotInlineEdit`) and draws what comes back where it
--- applies: the text to replace struck through, the new text beside it as virtual
--- text. `jump()` moves the cursor to the next suggested edit, `apply()` applies them
--- all (and reports it), `dismiss()` drops them (and reports it). Any change of the
--- buffer clears what is drawn: the edits were computed for the text before it.
local config = require("ghostls.config")
local request = require("ghostls.request")

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace("ghostls.nextedit")
M.METHOD = "textDocument/copilotInlineEdit"

M.defaults = {
  -- Off unless asked for: each request is a model call that rewrites ~21 lines, which
  -- a next-edit model (Sweep Next-Edit 1.5B) is made for and a plain FIM model is not.
  enabled = false,
  -- Milliseconds without a change before the request: the edit has settled.
  debounce_ms = 150,
}

---@class ghostls.NextEditState
---@field edits table[]        the server's edits, for `tick`
---@field tick integer         changedtick the edits were computed for
---@field request {client_id: integer, id: integer}|nil
---@field timer uv.uv_timer_t|nil

---@type table<integer, ghostls.NextEditState>
local states = {}

local function options()
  return vim.tbl_extend("force", M.defaults, config.options.next_edit or {})
end

local function state_of(bufnr)
  local s = states[bufnr]
  if not s then
    s = { edits = {}, tick = -1 }
    states[bufnr] = s
  end
  return s
end

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = "ghostls" })[1]
end

local function define_highlights()
  api.nvim_set_hl(0, "GhostlsNextEditDelete", { default = true, strikethrough = true })
  api.nvim_set_hl(0, "GhostlsNextEditInsert", { default = true, link = "DiffAdd" })
end

--- The byte column of an LSP position on its line.
local function byte_col(bufnr, position, encoding)
  local line = api.nvim_buf_get_lines(bufnr, position.line, position.line + 1, false)[1] or ""
  local ok, col = pcall(vim.str_byteindex, line, encoding, position.character, false)
  return ok and col or #line
end

--- Drop what is shown and any request in flight.
function M.clear(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local s = states[bufnr]
  if not s then
    return
  end
  request.cancel(s)
  s.edits = {}
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- The suggested edits shown now (the server's objects), or {}.
function M.edits(bufnr)
  local s = states[bufnr or api.nvim_get_current_buf()]
  return s and s.edits or {}
end

local function render(bufnr, client)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local encoding = client.offset_encoding
  for _, edit in ipairs(states[bufnr].edits) do
    local range = edit.range
    local srow, erow = range.start.line, range["end"].line
    local scol = byte_col(bufnr, range.start, encoding)
    local ecol = byte_col(bufnr, range["end"], encoding)
    if srow ~= erow or scol ~= ecol then
      api.nvim_buf_set_extmark(bufnr, M.ns, srow, scol, {
        end_row = erow,
        end_col = ecol,
        hl_group = "GhostlsNextEditDelete",
      })
    end
    local lines = vim.split(edit.text, "\n", { plain = true })
    local virt_lines = {}
    for i = 2, #lines do
      virt_lines[#virt_lines + 1] = { { lines[i], "GhostlsNextEditInsert" } }
    end
    api.nvim_buf_set_extmark(bufnr, M.ns, erow, ecol, {
      virt_text = { { lines[1], "GhostlsNextEditInsert" } },
      virt_text_pos = "inline",
      virt_lines = #virt_lines > 0 and virt_lines or nil,
      right_gravity = false,
    })
  end
end

local function on_response(bufnr, req, err, result)
  local s = states[bufnr]
  if not s or s.request ~= req then
    return -- superseded
  end
  s.request = nil
  if err or not api.nvim_buf_is_valid(bufnr) or api.nvim_buf_get_changedtick(bufnr) ~= req.tick then
    return -- cancelled, content modified, or edited meanwhile: a newer request follows
  end
  local version = vim.lsp.util.buf_versions[bufnr]
  local edits = {}
  for _, edit in ipairs(result and result.edits or {}) do
    local doc = edit.textDocument
    if type(edit.text) == "string" and (not doc or doc.version == nil or doc.version == version) then
      edits[#edits + 1] = edit
    end
  end
  s.edits, s.tick = edits, req.tick
  if #edits == 0 then
    return
  end
  local client = vim.lsp.get_client_by_id(req.client_id)
  if not client then
    return
  end
  render(bufnr, client)
  client:notify("textDocument/didShowInlineEdit", { item = edits[1] })
  api.nvim_exec_autocmds("User", { pattern = "GhostlsNextEdit", modeline = false, data = { bufnr = bufnr } })
end

--- Ask the server for the next edit at the cursor now.
function M.request(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client or not options().enabled or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local s = state_of(bufnr)
  M.clear(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  local req = { client_id = client.id, tick = api.nvim_buf_get_changedtick(bufnr) }
  local ok, id = client:request(M.METHOD, params, function(err, result)
    on_response(bufnr, req, err, result)
  end, bufnr)
  if ok then
    req.id = id
    s.request = req
  end
end

--- Request once the buffer has not changed for `debounce_ms`.
function M.schedule(bufnr)
  local s = state_of(bufnr)
  M.clear(bufnr)
  if not s.timer then
    s.timer = vim.uv.new_timer()
  end
  s.timer:stop()
  s.timer:start(
    options().debounce_ms,
    0,
    vim.schedule_wrap(function()
      -- In Insert mode the ghost text has the cursor: no next edit while it shows one.
      local typing = vim.fn.mode():match("^i") and require("ghostls.ghost").visible(bufnr)
      if api.nvim_buf_is_valid(bufnr) and not typing then
        M.request(bufnr)
      end
    end)
  )
end

local function current(bufnr)
  local s = states[bufnr]
  if not s or #s.edits == 0 or api.nvim_buf_get_changedtick(bufnr) ~= s.tick then
    return nil
  end
  return s
end

--- Move the cursor to the start of the next suggested edit after it (wrapping).
function M.jump(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local s = current(bufnr)
  local client = client_for(bufnr)
  if not s or not client then
    return false
  end
  local cursor = api.nvim_win_get_cursor(0)
  local target
  for _, edit in ipairs(s.edits) do
    local row = edit.range.start.line
    local col = byte_col(bufnr, edit.range.start, client.offset_encoding)
    if row > cursor[1] - 1 or (row == cursor[1] - 1 and col > cursor[2]) then
      target = { row + 1, col }
      break
    end
  end
  if not target then
    local first = s.edits[1].range.start
    target = { first.line + 1, byte_col(bufnr, first, client.offset_encoding) }
  end
  api.nvim_win_set_cursor(0, target)
  return true
end

--- Apply every suggested edit, and report it (the edit's command).
function M.apply(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local s = current(bufnr)
  local client = client_for(bufnr)
  if not s or not client then
    return false
  end
  local edits = s.edits
  local text_edits = {}
  for _, edit in ipairs(edits) do
    text_edits[#text_edits + 1] = { range = edit.range, newText = edit.text }
  end
  M.clear(bufnr)
  vim.lsp.util.apply_text_edits(text_edits, bufnr, client.offset_encoding)
  if edits[1].command then
    client:exec_cmd(edits[1].command, { bufnr = bufnr })
  end
  return true
end

--- Drop the suggestion, and report it.
function M.dismiss(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local s = current(bufnr)
  local client = client_for(bufnr)
  if s and client then
    client:notify("ghostls/nextEditRejected", { id = s.edits[1].id })
  end
  M.clear(bufnr)
  return s ~= nil
end

function M.detach(bufnr)
  M.clear(bufnr)
  local s = states[bufnr]
  if s and s.timer then
    s.timer:close()
  end
  states[bufnr] = nil
end

--- Autocommands and keymaps for one buffer.
function M.attach(bufnr)
  if not options().enabled then
    return
  end
  define_highlights()
  local group = api.nvim_create_augroup("ghostls.nextedit." .. bufnr, { clear = true })
  api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.schedule(bufnr)
    end,
  })
  api.nvim_create_autocmd({ "BufUnload", "LspDetach" }, {
    group = group,
    buffer = bufnr,
    callback = function(ev)
      if ev.event == "BufUnload" or (ev.data and client_for(bufnr) == nil) then
        M.detach(bufnr)
        pcall(api.nvim_del_augroup_by_id, group)
      end
    end,
  })
  local keys = config.options.keymaps or {}
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set("n", lhs, function()
        fn(bufnr)
      end, { buffer = bufnr, silent = true, desc = "ghostls: " .. desc })
    end
  end
  map(keys.next_edit_jump, M.jump, "jump to the next edit")
  map(keys.next_edit_apply, M.apply, "apply the next edit")
  map(keys.next_edit_dismiss, M.dismiss, "dismiss the next edit")
end

return M
