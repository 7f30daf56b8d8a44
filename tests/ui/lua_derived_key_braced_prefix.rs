// Text with `{` put before a tagged key moves the hash tag.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_derived_key_braced_prefix.lua", returns = i64)]
struct Archive<'a> {
    #[key("{{user:{}}}")]
    user: &'a str,
}

fn main() {}
