// A key template with a `}` that closes nothing.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_unmatched_brace.lua")]
struct Get {
    #[key("user}:{}")]
    user: String,
}

fn main() {}
