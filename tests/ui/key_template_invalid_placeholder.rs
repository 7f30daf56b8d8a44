// A key template with a `format!` placeholder it does not support.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/key_template_invalid_placeholder.lua")]
struct Get {
    #[key("user:{:>8}")]
    user: String,
}

fn main() {}
