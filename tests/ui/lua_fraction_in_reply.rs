// A warning, not an error (a script may mean the truncation): denied here so that this case
// shows it.
#![deny(warnings)]

// An average: Redis converts a Lua number in a reply to an integer, so 3.7 arrives as 3.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_fraction_in_reply.lua", returns = f64, standalone_only)]
struct Average<'a> {
    #[key]
    total: &'a str,
    #[key]
    count: &'a str,
}

fn main() {}
