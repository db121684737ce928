--- Feedback while the model loads, for users without a statusline component.
---
--- When the server says "loading" or "downloading" for longer than
--- `notice.after_ms` (an HTTP backend is ready at once and says nothing), the user gets
--- a message ("ghostls: loading <model>…", kept in `:messages`) and, in the current
--- window, the same words at the end of the cursor's line, where the ghost text will
--- be. Both go when the server is ready ("ghostls: <model> ready") or fails (the server
--- shows its own error message).
local config = require("ghostls.config")

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace("ghostls.notice")

---@type table<integer, {params: table, busy: boolean, told: boolean, timer: uv.uv_timer_t|nil}>
local clients = {}

local function clear_hint()
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) then
      api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
    end
  end
end

local function present(value)
  return value ~= nil and value ~= vim.NIL and value ~= ""
end

--- "ghostls: loading qwen2.5-coder-1.5b…" / "ghostls: downloading … (42%)…"
function M.describe(params)
  local model = present(params.model) and params.model or "the model"
  if params.state == "downloading" then
    local detail = present(params.detail) and (" (" .. params.detail .. ")") or ""
    return ("ghostls: downloading %s%s…"):format(model, detail)
  end
  return ("ghostls: loading %s…"):format(model)
end

local function show(entry, history)
  local text = M.describe(entry.params)
  api.nvim_echo({ { text, "MoreMsg" } }, history, {})
  clear_hint()
  local buf = api.nvim_get_current_buf()
  if vim.bo[buf].buftype == "" then
    local row = api.nvim_win_get_cursor(0)[1] - 1
    pcall(api.nvim_buf_set_extmark, buf, M.ns, row, 0, {
      virt_text = { { "  " .. text, config.options.hl_group } },
      virt_text_pos = "eol",
      hl_mode = "combine",
    })
  end
end

local function stop_timer(entry)
  if entry.timer then
    entry.timer:stop()
    entry.timer:close()
    entry.timer = nil
  end
end

--- Called with every ghostls/status notification.
function M.on_status(client_id, params)
  local options = config.options.notice or {}
  if options.enabled == false then
    return
  end
  local entry = clients[client_id] or { busy = false, told = false }
  clients[client_id] = entry
  entry.params = params
  local busy = params.state == "loading" or params.state == "downloading"
  if busy then
    if entry.told then
      show(entry, false) -- a new percentage: shown, not added to :messages
    elseif not entry.busy then
      local after = options.after_ms or 500
      if after <= 0 then
        entry.told = true
        show(entry, true)
      else
        entry.timer = vim.uv.new_timer()
        entry.timer:start(
          after,
          0,
          vim.schedule_wrap(function()
            stop_timer(entry)
            if entry.busy and not entry.told then
              entry.told = true
              show(entry, true)
            end
          end)
        )
      end
    end
    entry.busy = true
    return
  end
  entry.busy = false
  stop_timer(entry)
  if entry.told then
    entry.told = false
    clear_hint()
    if params.state ~= "error" then
      local model = present(params.model) and params.model or "the model"
      api.nvim_echo({ { ("ghostls: %s ready"):format(model), "MoreMsg" } }, true, {})
    end
  end
end

return M
