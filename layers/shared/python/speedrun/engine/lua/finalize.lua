-- ARGV: now. The deadline timer fired: completes the run if its deadline has passed.
local meta = load_meta()
if not meta then return ok({missing = true}) end
enforce_deadline(meta)
return ok({status = meta.status, ends_at = tonumber(meta.ends_at)})
