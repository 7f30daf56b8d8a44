// The Lua file is not valid UTF-8: its string literal holds a raw 0xFF byte.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/non_utf8_lua_file.lua")]
struct NonUtf8;

fn main() {}
