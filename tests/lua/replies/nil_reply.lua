return false -- redis-script: allow(reply_type_mismatch)
