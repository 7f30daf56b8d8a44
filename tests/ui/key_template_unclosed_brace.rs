// A key template with an unclosed `{`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_unclosed_brace.lua")]
struct Get {
    #[key("user:{")]
    user: String,
}

fn main() {}
