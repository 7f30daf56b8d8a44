// A value from ARGV put before a tagged key may contain `{` and move the hash tag.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_derived_key_argv_prefix.lua", returns = i64)]
struct Prefixed<'a> {
    #[key("{{user:{}}}")]
    user: &'a str,
    #[arg]
    namespace: &'a str,
}

fn main() {}
