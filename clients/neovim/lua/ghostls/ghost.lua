--- Ghost text: request, draw, grow, type through, accept.
---
--- One state per buffer. A suggestion is anchored where it was requested: `row`, `col`
--- (0-based, bytes), with the line's text before and after the anchor remembered. The
--- user may type characters that match the suggestion; the line is then exactly
--- `before .. typed .. after` and the ghost shows the rest, with no request sent.
--- Anything else (another character, a cursor move, leaving Insert mode) clears it.
local config = require("ghostls.config")
local request = require("ghostls.request")

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace("ghostls")
M.enabled = true

---@class ghostls.Item
---@field text string        what is left to show from the anchor on (grows with updates)
---@field full string        the whole suggestion from where it was first requested
---@field offset integer     bytes of `full` accepted before the anchor (word/line accepts)
---@field raw table          the InlineCompletionItem as the server sent it (for reports)
---@field replace integer    characters after the anchor the item replaces (closing brackets)
---@field dedent integer     spaces of the line's indentation the item removes (see `from_line_start`)
---@field strip integer      bytes of the server's text before the suggestion (an item that dedents)
---@field shown boolean|nil  textDocument/didShowCompletion sent
---@field item_id string|nil
---@field command table|nil
---@field client_id integer

---@class ghostls.State
---@field items ghostls.Item[]
---@field index integer
---@field row integer
---@field col integer
---@field before string
---@field after string
---@field character integer  the anchor's column as the request sent it (LSP units)
---@field typed string
---@field uri string
---@field version integer|nil
---@field request {client_id: integer, id: integer, tick: integer}|nil
---@field timer uv.uv_timer_t|nil
---@field tick integer
---@field cursor integer[]|nil  where the cursor was at the last TextChangedI/CursorMovedI

---@type table<integer, ghostls.State>
local states = {}

local function state_of(bufnr)
  local s = states[bufnr]
  if not s then
    s = { items = {}, index = 1, typed = "", tick = -1 }
    states[bufnr] = s
  end
  return s
end

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = "ghostls" })[1]
end

--- The item on show, or nil.
function M.current(bufnr)
  local s = states[bufnr or api.nvim_get_current_buf()]
  return s and s.items[s.index] or nil
end

--- The part of the suggestion not yet typed.
function M.remaining(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local item = M.current(bufnr)
  if not item then
    return nil
  end
  return item.text:sub(#states[bufnr].typed + 1)
end

function M.visible(bufnr)
  local rest = M.remaining(bufnr)
  return rest ~= nil and rest ~= ""
end

--- UTF-16 code units in `text` (LSP's default unit): 2 for a 4-byte UTF-8 sequence,
--- 0 for a continuation byte, else 1. The same on every Neovim version.
function M.utf16_len(text)
  local units = 0
  for i = 1, #text do
    local b = text:byte(i)
    if b >= 0xF0 then
      units = units + 2
    elseif b < 0x80 or b >= 0xC0 then
      units = units + 1
    end
  end
  return units
end

--- Reports back to the server (Copilot's notifications; docs/protocol.md): the item as
--- it came, with its whole text so far.
local function report(item, method, extra)
  local client = vim.lsp.get_client_by_id(item.client_id)
  if not client then
    return
  end
  local wire = vim.deepcopy(item.raw or {})
  wire.insertText = item.full
  local params = vim.tbl_extend("force", { item = wire }, extra or {})
  client:notify(method, params)
end

local function render(bufnr)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local s = states[bufnr]
  local rest = M.remaining(bufnr)
  if not s or not rest or rest == "" then
    return
  end
  local item = s.items[s.index]
  if not item.shown then
    item.shown = true
    report(item, "textDocument/didShowCompletion")
  end
  local lines = vim.split(rest, "\n", { plain = true })
  local hl = config.options.hl_group
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { lines[i], hl } }
  end
  local col, first, pos = s.col + #s.typed, lines[1], "inline"
  if (item.dedent or 0) > 0 then
    -- The line as accepting leaves it, drawn over it from where its text will start
    -- (virtual text cannot take characters away; copilot.vim draws such an item the
    -- same way): what was typed after the indentation, then the suggestion, padded to
    -- cover the characters it moves.
    local line = api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, false)[1] or ""
    local indent = #line:match("^ *")
    local typed = line:sub(indent + 1, col)
    first = typed .. first
    col = indent - item.dedent
    first = first .. string.rep(" ", #line - col - #first)
    pos = "overlay"
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, s.row, col, {
    virt_text = { { first, hl } },
    virt_text_pos = pos,
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
    right_gravity = false,
  })
end

--- Drop what is shown and any request in flight.
function M.clear(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local s = states[bufnr]
  if not s then
    return
  end
  request.cancel(s)
  if s.timer then
    s.timer:stop()
  end
  s.items, s.index, s.typed = {}, 1, ""
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

--- Characters after the anchor (at `character`, LSP units) an item's `range` replaces
--- (closing brackets or quotes the suggestion typed again; ASCII, so characters are
--- bytes). 0 for an insert.
local function replaced(range, character)
  if type(range) ~= "table" or range["end"].line ~= range.start.line then
    return 0
  end
  return math.max(0, range["end"].character - math.max(range.start.character, character))
end

--- An item whose range starts before the anchor on its line removes some of the
--- line's indentation (`return x` one level out of the body auto-indent left the
--- cursor in): the server sends the line from the range's start with less indentation,
--- then the suggestion. Gives the suggestion after the anchor, the spaces it removes
--- and the bytes of the server's text before the suggestion; nil for any other item.
--- `before`: the line before the anchor (the range starts in its indentation: bytes
--- are characters there).
local function from_line_start(range, text, before, character)
  if type(range) ~= "table" or range.start.line ~= range["end"].line then
    return nil
  end
  local start = range.start.character
  if start >= character or start > #before then
    return nil
  end
  local head = before:sub(start + 1)
  local head_indent, item_indent = #head:match("^ *"), #text:match("^ *")
  local typed, rest = head:sub(head_indent + 1), text:sub(item_indent + 1)
  if item_indent > head_indent or rest:sub(1, #typed) ~= typed then
    return nil
  end
  return rest:sub(#typed + 1), head_indent - item_indent, item_indent + #typed
end

local function items_from(result, client_id, s)
  local list = result and (result.items or result) or {}
  local items = {}
  for _, raw in ipairs(list) do
    local text = type(raw.insertText) == "table" and raw.insertText.value or raw.insertText
    local dedent, strip = 0, 0
    if type(text) == "string" then
      local rest, removes, before_rest = from_line_start(raw.range, text, s.before, s.character)
      if rest then
        text, dedent, strip = rest, removes, before_rest
      end
    end
    if type(text) == "string" and text ~= "" then
      local args = raw.command and raw.command.arguments
      items[#items + 1] = {
        text = text,
        full = text,
        offset = 0,
        raw = raw,
        replace = replaced(raw.range, s.character),
        dedent = dedent,
        strip = strip,
        command = raw.command,
        item_id = args and args[1] or nil,
        client_id = client_id,
      }
    end
  end
  return items
end

local function on_response(bufnr, req, err, result)
  local s = states[bufnr]
  if not s or s.request ~= req then
    return -- superseded
  end
  s.request = nil
  if err or not api.nvim_buf_is_valid(bufnr) then
    return -- cancelled, content modified, server error: ghostls/status says why
  end
  if api.nvim_buf_get_changedtick(bufnr) ~= req.tick or not vim.fn.mode():match("^i") then
    return -- typed on meanwhile: a newer request follows
  end
  s.items, s.index, s.typed = items_from(result, req.client_id, s), 1, ""
  render(bufnr)
end

--- Send textDocument/inlineCompletion for the cursor now.
function M.request(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client or not M.enabled or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local s = state_of(bufnr)
  M.clear(bufnr)
  local win = api.nvim_get_current_win()
  local cursor = api.nvim_win_get_cursor(win)
  local line = api.nvim_get_current_line()
  s.row, s.col = cursor[1] - 1, cursor[2]
  s.before, s.after = line:sub(1, s.col), line:sub(s.col + 1)
  s.uri = vim.uri_from_bufnr(bufnr)
  s.version = vim.lsp.util.buf_versions[bufnr]
  s.tick = api.nvim_buf_get_changedtick(bufnr)
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = 2 } -- Automatic
  s.character = params.position.character
  local req = { client_id = client.id, tick = s.tick }
  local ok, id = client:request("textDocument/inlineCompletion", params, function(err, result)
    on_response(bufnr, req, err, result)
  end, bufnr)
  if ok then
    req.id = id
    s.request = req
  end
end

--- Request after `debounce_ms` without another keystroke.
function M.schedule(bufnr)
  local s = state_of(bufnr)
  if not s.timer then
    s.timer = vim.uv.new_timer()
  end
  s.timer:stop()
  s.timer:start(
    config.options.debounce_ms,
    0,
    vim.schedule_wrap(function()
      if api.nvim_buf_is_valid(bufnr) and vim.fn.mode():match("^i") then
        M.request(bufnr)
      end
    end)
  )
end

--- What the user did since the suggestion was drawn: nil when it contradicts it,
--- else the text typed through (a prefix of the suggestion).
local function typed_through(bufnr, s)
  local cursor = api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= s.row or cursor[2] < s.col then
    return nil
  end
  local line = api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, false)[1] or ""
  local typed = line:sub(s.col + 1, cursor[2])
  if line ~= s.before .. typed .. s.after then
    return nil
  end
  local item = s.items[s.index]
  if typed:find("\n", 1, true) or item.text:sub(1, #typed) ~= typed then
    return nil
  end
  return typed
end

--- TextChangedI / CursorMovedI: keep and advance on a matching keystroke, else clear;
--- a text change (not a bare cursor move) asks for a new suggestion.
---
--- One keystroke fires both events, CursorMovedI first: the first sees the change and
--- starts the debounce timer, the second sees neither a change nor a move and must
--- leave that timer alone (stopping it lost the suggestion after the last key).
function M.on_change(bufnr)
  local s = state_of(bufnr)
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local changed = tick ~= s.tick
  s.tick = tick
  local cursor = api.nvim_win_get_cursor(0)
  local moved = not s.cursor or s.cursor[1] ~= cursor[1] or s.cursor[2] ~= cursor[2]
  s.cursor = cursor
  if s.items[s.index] then
    local typed = typed_through(bufnr, s)
    if typed and #typed < #s.items[s.index].text then
      s.typed = typed
      render(bufnr)
      return
    end
    M.clear(bufnr)
  elseif not changed and moved and s.request then
    -- A bare cursor move while a request is in flight: its answer would be misplaced.
    -- (A request in flight when the text changes stays: the next one cancels it, and
    -- until then the server may still serve the new text from its generation.)
    request.cancel(s)
  end
  if changed and config.options.auto_trigger and M.enabled then
    M.schedule(bufnr)
  end
end

--- Handler for ghostls/inlineCompletionUpdate: the whole text so far, for one item.
function M.on_update(_, params, ctx)
  for bufnr, s in pairs(states) do
    local item = s.items[s.index]
    if item and s.uri == params.uri and item.item_id == params.itemId then
      if item.client_id == ctx.client_id then
        -- An item that dedents: the text from the line's start, as its range says.
        item.full = params.text:sub((item.strip or 0) + 1)
        item.text = item.full:sub(item.offset + 1) -- after what word/line accepts took
        item.replace = replaced(params.range, params.position.character)
        if #s.typed >= #item.text or item.text:sub(1, #s.typed) ~= s.typed then
          -- It shrank under what was typed, or to nothing (the cut dropped all of it,
          -- or the timeout ended the model in its first line).
          M.clear(bufnr)
        else
          render(bufnr)
        end
      end
      return
    end
  end
end

local function run_command(item, bufnr)
  if item.command and not item.accepted then
    item.accepted = true
    local client = vim.lsp.get_client_by_id(item.client_id)
    if client then
      client:exec_cmd(item.command, { bufnr = bufnr })
    end
  end
end

--- The part to insert for `kind` ("all", "word", "line") from the remaining text.
function M.part(rest, kind)
  if kind == "word" then
    return rest:match("^%s*[%w_]+") or rest:match("^%s*[^%w_%s]+") or rest:match("^%s+") or rest
  elseif kind == "line" then
    return rest:match("^\n[^\n]*") or rest:match("^[^\n]+") or rest
  end
  return rest
end

--- Insert all or part of the suggestion at the cursor. Returns false when none is shown.
function M.accept(kind)
  local bufnr = api.nvim_get_current_buf()
  local s, item, rest = states[bufnr], M.current(bufnr), M.remaining(bufnr)
  if not item or not rest or rest == "" then
    return false
  end
  local part = M.part(rest, kind or "all")
  local lines = vim.split(part, "\n", { plain = true })
  local row, col = s.row, s.col + #s.typed
  -- Accepting the whole rest also replaces what the suggestion typed again after it.
  local replace = part == rest and (item.replace or 0) or 0
  request.cancel(s)
  api.nvim_buf_set_text(bufnr, row, col, row, col + replace, lines)
  local end_row = row + #lines - 1
  local end_col = (#lines == 1 and col or 0) + #lines[#lines]
  local dedent = item.dedent or 0
  if dedent > 0 then
    -- The item's range starts at the line's start: the indentation it removes goes too
    -- (a part accepted takes it along: the line is then where the rest continues).
    api.nvim_buf_set_text(bufnr, row, 0, row, dedent, {})
    end_col = end_row == row and end_col - dedent or end_col
    item.dedent = 0
  end
  api.nvim_win_set_cursor(0, { end_row + 1, end_col })
  if #part == #rest then
    -- Only once the whole suggestion is in: the command makes the server prefetch what
    -- follows it, which a partial accept (the user may still diverge) would waste.
    run_command(item, bufnr)
    M.clear(bufnr)
    return true
  end
  -- Partial: re-anchor the rest at the new cursor, as if it had been typed through.
  item.offset = item.offset + #s.typed + #part
  report(item, "textDocument/didPartiallyAcceptCompletion", {
    acceptedLength = M.utf16_len(item.full:sub(1, item.offset)),
  })
  local line = api.nvim_buf_get_lines(bufnr, end_row, end_row + 1, false)[1] or ""
  item.text = rest:sub(#part + 1)
  s.row, s.col, s.typed = end_row, end_col, ""
  s.before, s.after = line:sub(1, end_col), line:sub(end_col + 1)
  s.tick = api.nvim_buf_get_changedtick(bufnr)
  render(bufnr)
  return true
end

--- Show the next (+1) or previous (-1) item of the last answer.
function M.cycle(step)
  local bufnr = api.nvim_get_current_buf()
  local s = states[bufnr]
  if s and #s.items > 1 and s.typed == "" then
    s.index = (s.index - 1 + step) % #s.items + 1
    render(bufnr)
  elseif not (s and s.items[s.index]) then
    M.request(bufnr)
  end
end

function M.detach(bufnr)
  M.clear(bufnr)
  local s = states[bufnr]
  if s and s.timer then
    s.timer:close()
  end
  states[bufnr] = nil
end

--- Autocommands for one buffer (the plugin's own renderer).
function M.attach(bufnr)
  local group = api.nvim_create_augroup("ghostls.ghost." .. bufnr, { clear = true })
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP", "CursorMovedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.on_change(bufnr)
    end,
  })
  api.nvim_create_autocmd("InsertEnter", {
    group = group,
    buffer = bufnr,
    callback = function()
      state_of(bufnr).tick = api.nvim_buf_get_changedtick(bufnr)
      if config.options.auto_trigger and M.enabled then
        M.schedule(bufnr)
      end
    end,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
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
end

return M
