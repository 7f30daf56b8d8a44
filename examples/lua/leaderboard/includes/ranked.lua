-- Turns a flat ZREVRANGE ... WITHSCORES reply {member, score, member, score, ...} into rows
-- {rank, member, score}, ranks counting from first_rank (1 is the best).
local function ranked(flat, first_rank)
  local rows = {}
  for i = 1, #flat, 2 do
    rows[#rows + 1] = {first_rank + (i - 1) / 2, flat[i], tonumber(flat[i + 1])}
  end
  return rows
end
