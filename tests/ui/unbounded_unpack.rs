// A warning, not an error: denied here so that this case shows it.
#![deny(warnings)]

// `unpack(KEYS)` of a variadic key list: 8,000 keys or more overflow Lua's stack.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unbounded_unpack.lua", returns = i64, standalone_only)]
struct DeleteAll<'a> {
    #[key(variadic)]
    keys: &'a [&'a str],
}

fn main() {}
