// `os` (like `io`, `require`, `debug`, `print`) is not in Redis's sandbox.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_sandboxed_library.lua", returns = i64)]
struct Stamp<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
