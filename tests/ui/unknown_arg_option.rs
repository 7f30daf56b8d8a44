// `#[arg(foo)]`: the only option is `variadic`.
#[derive(redis_script::RedisScript)]
#[redis_script(path = "ui/lua/unknown_arg_option.lua")]
struct Echo {
    #[arg(foo)]
    message: String,
}

fn main() {}
