// The script is not valid Lua.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_syntax_error.lua")]
struct SyntaxError;

fn main() {}
