// GET takes one key; the script passes two (a static count).
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/lua_wrong_arity.lua", returns = Option<String>)]
struct Get<'a> {
    #[key("{{user:{}}}")]
    user: &'a str,
    #[arg]
    field: &'a str,
}

fn main() {}
