// A key template on an #[arg].
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/arg_with_template.lua")]
struct Echo {
    #[arg("message:{}")]
    message: String,
}

fn main() {}
