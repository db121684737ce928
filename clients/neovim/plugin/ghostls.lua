-- :Ghostls — status | toggle | explain | fix | doc | test | edit {instruction}
-- Nothing starts until require("ghostls").setup() is called.
if vim.g.loaded_ghostls then
  return
end
vim.g.loaded_ghostls = true

-- Ghost text must not look like code, with or without 'termguicolors': Comment has
-- only a GUI colour in Neovim's default colorscheme, so this gives a grey of its own
-- for both (a colorscheme or the user may still set the group: `default`).
local function highlight()
  vim.api.nvim_set_hl(0, "GhostlsSuggestion", {
    fg = "#808080",
    ctermfg = 244,
    italic = true,
    cterm = { italic = true },
    default = true,
  })
end
highlight()
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("ghostls.highlight", { clear = true }),
  callback = highlight,
})

local subcommands = { "status", "stats", "toggle", "explain", "fix", "doc", "test", "edit" }

vim.api.nvim_create_user_command("Ghostls", function(opts)
  local sub = opts.fargs[1] or "status"
  local ghostls = require("ghostls")
  if sub == "status" then
    vim.notify(table.concat(ghostls.status_lines(), "\n"))
  elseif sub == "stats" then
    local lines = ghostls.stats_lines()
    vim.notify(#lines > 0 and table.concat(lines, "\n") or "ghostls: no server answered")
  elseif sub == "toggle" then
    ghostls.toggle()
  elseif require("ghostls.actions").KINDS[sub] then
    local instruction = vim.trim(opts.args:sub(#sub + 1))
    if sub == "edit" and instruction == "" then
      vim.notify("ghostls: :Ghostls edit {instruction}", vim.log.levels.ERROR)
      return
    end
    require("ghostls.actions").run(sub, opts.line1, opts.line2, instruction ~= "" and instruction or nil)
  else
    vim.notify("ghostls: unknown subcommand " .. sub, vim.log.levels.ERROR)
  end
end, {
  nargs = "*",
  range = "%",
  desc = "ghostls: status, toggle, or a code action over a range",
  complete = function(arg, line)
    if #vim.split(line, "%s+", { trimempty = false }) > 2 then
      return {}
    end
    return vim.tbl_filter(function(s)
      return s:find(arg, 1, true) == 1
    end, subcommands)
  end,
})
