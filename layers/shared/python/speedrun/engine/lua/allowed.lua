-- ARGV: now, role, participant id ('' for the host). Answers whether that identity may connect.
local meta = load_meta()
if not meta then return ok(false) end
if ARGV[2] == 'host' then return ok(true) end
local p = load_player(ARGV[3])
return ok(p ~= nil and not p.kicked)
