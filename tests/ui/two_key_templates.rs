// Two key templates on one #[key].
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/two_key_templates.lua")]
struct Get {
    #[key("user:{}", "account:{}")]
    user: String,
}

fn main() {}
