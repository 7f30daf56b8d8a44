// An allow comment on a Lua line that names no lint.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_allow_comment_invalid.lua", returns = i64)]
struct Get<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
