// Redis converts a Lua array only up to its first nil: the email never arrives.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_nil_in_reply_array.lua", returns = Vec<Option<String>>)]
struct Profile<'a> {
    #[key]
    user: &'a str,
}

fn main() {}
