--- @include "includes/remove_job"
--- @include "includes/keys"
return remove_job(ARGV[1], KEYS[1], ARGV[2])
