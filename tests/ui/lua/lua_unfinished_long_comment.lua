return 1
--[[ never closed
