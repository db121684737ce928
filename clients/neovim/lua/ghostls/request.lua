--- A request in flight, kept as `state.request = { client_id, id, … }` by ghost.lua and
--- nextedit.lua.
local M = {}

--- Cancel `state`'s request in flight, if any, and forget it (its answer is then
--- ignored: the callbacks check `state.request`).
function M.cancel(state)
  local req = state.request
  state.request = nil
  if req then
    local client = vim.lsp.get_client_by_id(req.client_id)
    if client then
      client:cancel_request(req.id)
    end
  end
end

return M
