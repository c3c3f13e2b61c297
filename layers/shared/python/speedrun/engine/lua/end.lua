-- ARGV: now. The host ends a running run.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
enforce_deadline(meta)
if meta.status ~= 'running' then return fail('not_running', 'the speed-run is not running') end
complete(meta, 'host_ended')
return ok({})
