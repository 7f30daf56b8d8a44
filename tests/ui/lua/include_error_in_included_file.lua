-- Touches a job through the shared helpers.
--- @include "includes/job_helpers"
return touch_job(KEYS[1])
