--- `:checkhealth ghostls`: Neovim version, server found and its version, running
--- clients, backend reachable and model ready (from the server's ghostls/status).
local M = {}

local health = vim.health

local function check_server(cmd)
  local exe = cmd and cmd[1]
  if not exe or vim.fn.executable(exe) ~= 1 then
    health.error(("server command not found: %s"):format(exe or "(none)"), {
      "pip install ghostls (or set cmd in require('ghostls').setup)",
    })
    return
  end
  local path = vim.fn.exepath(exe)
  local ok, out = pcall(function()
    -- `ghostls --version` (or `python -m lsp_server --version`): cmd minus `serve`.
    local args = { path }
    for i = 2, #cmd do
      if cmd[i] == "serve" then
        break
      end
      args[#args + 1] = cmd[i]
    end
    args[#args + 1] = "--version"
    return vim.system(args, { text = true }):wait(10000)
  end)
  local version = ok and out and out.code == 0 and vim.trim((out.stdout or "") .. (out.stderr or ""))
  if version and version ~= "" then
    health.ok(("server found: %s (%s)"):format(path, version))
  else
    health.warn(("server found: %s, but `--version` failed"):format(path))
  end
end

function M.check()
  local config = require("ghostls.config")
  local ghostls = require("ghostls")
  health.start("ghostls")
  local v = vim.version()
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
  else
    health.error("Neovim 0.11 or newer is needed (vim.lsp.start, client:request)")
  end
  if config.options.builtin then
    if vim.lsp.inline_completion then
      health.ok("renderer: built-in vim.lsp.inline_completion")
    else
      health.warn("builtin = true needs Neovim 0.12; using the plugin's renderer")
    end
  else
    health.ok("renderer: ghostls extmarks (streaming " .. tostring(config.options.streaming) .. ")")
  end
  check_server(config.options.cmd)

  local clients = ghostls.clients()
  if #clients == 0 then
    health.info("no ghostls client running yet (open a file to start one)")
    return
  end
  for _, client in ipairs(clients) do
    local status = ghostls.status[client.id] or {}
    local info = client.server_info or {}
    local label = ("client %d (%s %s, root %s)"):format(
      client.id,
      info.name or "ghostls",
      info.version or "?",
      client.root_dir or "?"
    )
    health.ok(label .. " is running")
    local state, detail = status.state, status.detail
    detail = (detail ~= nil and detail ~= vim.NIL) and detail or ""
    local where = ("backend %s, model %s"):format(status.backend or "?", status.model or "?")
    if state == "error" then
      health.error(("%s: %s"):format(where, detail))
    elseif state == "idle" or state == "generating" then
      health.ok(("%s: ready (%s)"):format(where, state))
    elseif state == nil then
      health.warn("no status from the server yet")
    else
      health.info(("%s: %s %s"):format(where, state, detail))
    end
    local actions = require("ghostls.actions").supported(client)
    health.info("code actions (ghostls.runAction): " .. (actions and "offered" or "not offered"))
  end
end

return M
