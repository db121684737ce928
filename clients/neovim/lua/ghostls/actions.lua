--- Code actions over a range: `:Ghostls explain|fix|doc|test|edit {instruction}`.
---
--- Runs `workspace/executeCommand` `ghostls.runAction` with `{kind, uri, range, version, instruction?}`
--- and shows the `ghostls/actionStream` `{actionId, delta, done}`
--- notifications live: explain in a floating window that grows, edit kinds as a diff
--- preview of the range with accept (`a`) / reject (`q`). The float takes the focus
--- (`q` closes it and returns to the code), wraps at word boundaries, and is as tall as
--- its wrapped lines. The same runs for actions picked from Neovim's own menu (`gra`):
--- `run_command` is the client-side handler of the `ghostls.runAction` command.
local config = require("ghostls.config")

local api = vim.api
local M = {}

M.COMMAND = "ghostls.runAction"
-- :Ghostls subcommand → the server's action kind.
M.KINDS = { explain = "explain", fix = "fix", doc = "document", test = "tests", edit = "edit" }

---@type table<string, table>
M.sessions = {} -- by actionId (chosen here and sent with the request)
local counter = 0

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = "ghostls" })[1]
end

--- Whether the server offers code actions (ghostls.runAction).
function M.supported(client)
  local provider = client and client.server_capabilities.executeCommandProvider
  return provider ~= nil and vim.tbl_contains(provider.commands or {}, M.COMMAND)
end

local function strip_fences(text)
  local body = text:match("^%s*```[^\n]*\n(.-)\n?```%s*$")
  return body or text
end

local function shown_lines(session)
  if session.kind == "explain" then
    return vim.split(session.text, "\n", { plain = true })
  end
  local proposed = strip_fences(session.text)
  local original = table.concat(session.original, "\n") .. "\n"
  local diff = vim.diff(original, proposed .. "\n", { ctxlen = 3 })
  local lines = vim.split(diff ~= "" and diff or proposed, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

local function title(session)
  if session.kind == "explain" then
    return (" ghostls explain%s "):format(session.done and "" or " …")
  end
  return (" ghostls %s%s — a: accept, q: reject "):format(
    session.kind,
    session.done and "" or " …"
  )
end

local function redraw(session)
  if not api.nvim_buf_is_valid(session.float_buf) then
    return
  end
  local lines = shown_lines(session)
  vim.bo[session.float_buf].modifiable = true
  api.nvim_buf_set_lines(session.float_buf, 0, -1, false, lines)
  vim.bo[session.float_buf].modifiable = false
  if api.nvim_win_is_valid(session.win) then
    local width = 20
    for _, line in ipairs(lines) do
      width = math.max(width, vim.fn.strdisplaywidth(line))
    end
    local opts = config.options.float
    width = math.min(width, opts.max_width, vim.o.columns - 4)
    local placement = {
      relative = "editor",
      row = 1,
      col = math.max(0, vim.o.columns - width - 4),
      width = width,
      title = title(session),
    }
    api.nvim_win_set_config(session.win, placement)
    -- Screen rows at this width, wrapped at word boundaries ('linebreak'), not lines.
    local rows = api.nvim_win_text_height(session.win, {}).all
    placement.height = math.max(1, math.min(rows, opts.max_height, vim.o.lines - 4))
    api.nvim_win_set_config(session.win, placement)
  end
end

local function close(session)
  if session.win and api.nvim_win_is_valid(session.win) then
    api.nvim_win_close(session.win, true)
  end
  if session.origin_win and api.nvim_win_is_valid(session.origin_win) then
    api.nvim_set_current_win(session.origin_win) -- back to the code
  end
  if session.id then
    M.sessions[session.id] = nil
  end
end

--- Apply the proposed edit (the server's WorkspaceEdit when it returned one).
function M.accept(session)
  if not session.done then
    -- The diff grows while the model writes: accepting it now would put a half-written
    -- answer (an open fence, a cut line) over the user's code.
    vim.notify("ghostls: the edit is still being written; accept it when it is done", vim.log.levels.WARN)
    return false
  end
  local client = vim.lsp.get_client_by_id(session.client_id)
  if session.edit and client then
    vim.lsp.util.apply_workspace_edit(session.edit, client.offset_encoding)
  elseif vim.lsp.util.buf_versions[session.bufnr] ~= session.version then
    vim.notify("ghostls: the buffer changed; edit not applied", vim.log.levels.WARN)
    return false
  else
    local lines = vim.split(strip_fences(session.text), "\n", { plain = true })
    api.nvim_buf_set_lines(session.bufnr, session.line1 - 1, session.line2, false, lines)
  end
  close(session)
  return true
end

local function open_float(session)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = session.kind == "explain" and "markdown" or "diff"
  session.float_buf = buf
  local opts = config.options.float
  session.origin_win = api.nvim_get_current_win()
  if vim.fn.mode() ~= "n" then
    vim.cmd.stopinsert() -- the float's keys (q, a) are Normal-mode keys
  end
  session.win = api.nvim_open_win(buf, true, {
    relative = "editor",
    row = 1,
    col = math.max(0, vim.o.columns - 44),
    width = 40,
    height = 1,
    style = "minimal",
    border = opts.border,
    title = title(session),
  })
  vim.wo[session.win].wrap = true
  vim.wo[session.win].linebreak = true -- wrap at word boundaries
  vim.b[buf].ghostls_action = session.kind
  local function map(lhs, fn)
    vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, silent = true })
  end
  map("q", function()
    close(session)
  end)
  if session.kind ~= "explain" then
    map("a", function()
      M.accept(session)
    end)
  end
end

--- Handler for ghostls/actionStream `{actionId, delta, done, reset?, error?}`.
function M.on_stream(_, params, ctx)
  local session = M.sessions[tostring(params.actionId)]
  if not session or session.client_id ~= ctx.client_id then
    return
  end
  if params.reset then
    session.text = "" -- redirected: a new generation starts over
  end
  if type(params.error) == "string" then
    session.text = session.text .. "\n[ghostls: " .. params.error .. "]"
  end
  if type(params.delta) == "string" then
    session.text = session.text .. params.delta
  end
  session.done = session.done or params.done == true
  redraw(session)
end

--- Handler for ghostls/actionResult `{actionId, edit, text, prose, problem?}`: the
--- proposed edit of a preview, with the code it puts in.
function M.on_result(_, params, ctx)
  local session = M.sessions[tostring(params.actionId)]
  if not session or session.client_id ~= ctx.client_id then
    return
  end
  session.edit = params.edit
  if type(params.text) == "string" then
    session.text = params.text
  end
  session.done = true
  redraw(session)
end

--- Run action `kind` over lines line1..line2 (1-based, inclusive) of the current buffer.
function M.run(kind, line1, line2, instruction)
  local bufnr = api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    vim.notify("ghostls: no ghostls client for this buffer", vim.log.levels.ERROR)
    return nil
  end
  if not M.supported(client) then
    vim.notify("ghostls: this server does not offer code actions", vim.log.levels.ERROR)
    return nil
  end
  local original = api.nvim_buf_get_lines(bufnr, line1 - 1, line2, false)
  local last = original[#original] or ""
  local range = {
    start = { line = line1 - 1, character = 0 },
    ["end"] = {
      line = line2 - 1,
      character = vim.str_utfindex(last, client.offset_encoding),
    },
  }
  return M.start(client, bufnr, kind, range, instruction, nil)
end

--- The `:Ghostls` name of a server action kind ("document" → "doc").
local function subcommand_of(server_kind)
  for sub, server in pairs(M.KINDS) do
    if server == server_kind then
      return sub
    end
  end
  return nil
end

--- Client-side handler of the `ghostls.runAction` command (client config `commands`):
--- what `gra` / vim.lsp.buf.code_action runs for a ghostls action. The argument is the
--- server's `{kind, uri, range, version, instruction?, diagnostics?}`.
function M.run_command(command, ctx)
  local args = command.arguments and command.arguments[1]
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local kind = type(args) == "table" and subcommand_of(args.kind)
  if not client or not kind then
    vim.notify("ghostls: cannot run " .. vim.inspect(command.title), vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.uri_to_bufnr(args.uri)
  local function go(instruction)
    M.start(client, bufnr, kind, args.range, instruction, args)
  end
  local given = args.instruction
  if kind == "edit" and (type(given) ~= "string" or vim.trim(given) == "") then
    vim.ui.input({ prompt = "ghostls: edit instruction: " }, function(input)
      if input and vim.trim(input) ~= "" then
        go(vim.trim(input))
      else
        vim.notify("ghostls: edit cancelled (no instruction)", vim.log.levels.WARN)
      end
    end)
    return
  end
  go(type(given) == "string" and given or nil)
end

--- Start action `kind` over the LSP `range` of `bufnr` and show it in a float; `extra`
--- holds the server's own argument fields (diagnostics) to send back.
function M.start(client, bufnr, kind, range, instruction, extra)
  local line1, line2 = range.start.line + 1, range["end"].line + 1
  if range["end"].character == 0 and line2 > line1 then
    line2 = line2 - 1 -- a range that ends at a line's start leaves that line out
  end
  local original = api.nvim_buf_get_lines(bufnr, line1 - 1, line2, false)
  local session = {
    kind = kind,
    bufnr = bufnr,
    client_id = client.id,
    line1 = line1,
    line2 = line2,
    original = original,
    version = vim.lsp.util.buf_versions[bufnr],
    id = ("nvim-%d-%d"):format(vim.fn.getpid(), counter + 1),
    text = "",
    done = false,
  }
  counter = counter + 1
  local args = vim.tbl_extend("force", extra or {}, {
    actionId = session.id,
    kind = M.KINDS[kind],
    uri = vim.uri_from_bufnr(bufnr),
    range = range,
    version = session.version,
    instruction = instruction,
    preview = kind ~= "explain" or nil, -- edits come back for review, not applied
  })
  open_float(session)
  M.sessions[session.id] = session
  client:request("workspace/executeCommand", { command = M.COMMAND, arguments = { args } }, function(err, result)
    if err then
      session.text = session.text .. "\n[ghostls: " .. (err.message or "action failed") .. "]"
      session.done = true
    elseif type(result) == "table" then
      session.status = result.status
      if type(result.text) == "string" and #result.text >= #session.text then
        session.text = result.text
      end
      if result.status == "error" or result.status == "cancelled" then
        session.text = session.text .. "\n[ghostls: " .. tostring(result.message) .. "]"
      end
      session.done = true
    end
    redraw(session)
  end, bufnr)
  return session
end

return M
