// A long comment that is never closed.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_unfinished_long_comment.lua", returns = i64)]
struct Commented;

fn main() {}
