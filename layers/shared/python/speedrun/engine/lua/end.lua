-- ARGV: now, the host's connection id. The host ends a running run.
local meta = load_meta()
if not meta then return fail('not_found', 'unknown speed-run') end
local refused = refuse_connection('host', ARGV[2])
if refused then return refused end
enforce_deadline(meta)
if meta.status ~= 'running' then return fail('not_running', 'the speed-run is not running') end
complete(meta, 'host_ended')
return ok({})
