// register_function's flags are checked like shebang flags.
#[derive(redis_script::RedisFunction)]
#[redis_function(library = "ui/lua/function_unknown_flag.lua", function = "peek", returns = Option<String>)]
struct Peek<'a> {
    #[key]
    key: &'a str,
}

fn main() {}
